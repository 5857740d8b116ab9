//! admissionregistration.k8s.io/v1: Mutating/ValidatingWebhookConfiguration,
//! ValidatingAdmissionPolicy and ValidatingAdmissionPolicyBinding, stored and
//! validated as kube-apiserver does (`pkg/apis/admissionregistration/v1`
//! defaults, `pkg/apis/admissionregistration/validation`). Nothing enforces
//! them yet; CEL expressions are checked for presence, not compiled.

use std::collections::BTreeSet;

use kubeplex_core::names::{is_dns1035_label, is_dns1123_subdomain, validate_path_segment_name};
use serde_json::{Map, Value, json};

use super::cluster::{label_selector, qualified_name};
use super::field::{
    Errs, Path, at, duplicate, each_obj_mut, forbidden, int_at, invalid, invalid_int, invalid_json, list_at,
    not_supported, required, s, set_default, str_at, too_many,
};

const FAILURE_POLICIES: &[&str] = &["Fail", "Ignore"];
const MATCH_POLICIES: &[&str] = &["Equivalent", "Exact"];
const SIDE_EFFECTS: &[&str] = &["None", "NoneOnDryRun", "Some", "Unknown"];
const NO_SIDE_EFFECTS: &[&str] = &["None", "NoneOnDryRun"];
const OPERATIONS: &[&str] = &["*", "CONNECT", "CREATE", "DELETE", "UPDATE"];
const REINVOCATION_POLICIES: &[&str] = &["IfNeeded", "Never"];
const SCOPES: &[&str] = &["*", "Cluster", "Namespaced"];
const REVIEW_VERSIONS: &[&str] = &["v1", "v1beta1"];
const VALIDATION_ACTIONS: &[&str] = &["Audit", "Deny", "Warn"];
const POLICY_REASONS: &[&str] = &["Forbidden", "Invalid", "RequestEntityTooLarge"];

// -------------------------------------------------------------- defaults

/// `SetDefaults_Rule` on each rule of `rules`.
fn rule_defaults(holder: &mut Map<String, Value>, key: &str) {
    for rule in each_obj_mut(holder, key) {
        set_default(rule, "scope", json!("*"));
    }
}

/// `SetDefaults_ValidatingWebhook` / `SetDefaults_MutatingWebhook`, rules
/// and service references.
pub(super) fn webhook_defaults(object: &mut Value, mutating: bool) {
    let Some(obj) = object.as_object_mut() else { return };
    for hook in each_obj_mut(obj, "webhooks") {
        set_default(hook, "failurePolicy", json!("Fail"));
        set_default(hook, "matchPolicy", json!("Equivalent"));
        set_default(hook, "namespaceSelector", json!({}));
        set_default(hook, "objectSelector", json!({}));
        set_default(hook, "timeoutSeconds", json!(10));
        if mutating {
            set_default(hook, "reinvocationPolicy", json!("Never"));
        }
        rule_defaults(hook, "rules");
        if let Some(service) =
            hook.get_mut("clientConfig").and_then(|c| c.get_mut("service")).and_then(Value::as_object_mut)
        {
            set_default(service, "port", json!(443));
        }
    }
}

/// `SetDefaults_MatchResources`.
fn match_resources_defaults(resources: &mut Map<String, Value>) {
    set_default(resources, "matchPolicy", json!("Equivalent"));
    set_default(resources, "namespaceSelector", json!({}));
    set_default(resources, "objectSelector", json!({}));
    rule_defaults(resources, "resourceRules");
    rule_defaults(resources, "excludeResourceRules");
}

/// A policy's `failurePolicy` and the match resources of a policy
/// (`matchConstraints`) or binding (`matchResources`).
pub(super) fn policy_defaults(object: &mut Value, policy: bool) {
    let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut) else {
        if policy && let Some(obj) = object.as_object_mut() {
            obj.insert("spec".into(), json!({"failurePolicy": "Fail"}));
        }
        return;
    };
    if policy {
        set_default(spec, "failurePolicy", json!("Fail"));
    }
    for key in ["matchConstraints", "matchResources"] {
        if let Some(resources) = spec.get_mut(key).and_then(Value::as_object_mut) {
            match_resources_defaults(resources);
        }
    }
}

// ------------------------------------------------------------ validation

fn strings(value: &Value, path: &[&str]) -> Vec<String> {
    list_at(value, path).iter().map(|v| v.as_str().unwrap_or("").to_owned()).collect()
}

/// `IsFullyQualifiedName`.
fn fully_qualified_name(name: &str, path: &Path) -> Errs {
    if name.is_empty() {
        return vec![required(path, "")];
    }
    let msgs = is_dns1123_subdomain(name);
    if !msgs.is_empty() {
        return vec![invalid(path, name, &msgs.join(","))];
    }
    if name.split('.').count() < 3 {
        return vec![invalid(path, name, "should be a domain with at least three segments separated by dots")];
    }
    Errs::new()
}

/// `validateResources` (subresources allowed).
fn resources(list: &[String], path: &Path) -> Errs {
    let mut errs = Errs::new();
    if list.is_empty() {
        errs.push(required(path, ""));
    }
    let mut with_wildcard_sub = BTreeSet::new();
    let mut sub_with_wildcard_res = BTreeSet::new();
    let (mut double, mut single, mut plain) = (false, false, false);
    for (i, res_sub) in list.iter().enumerate() {
        if res_sub.is_empty() {
            errs.push(required(&path.index(i), ""));
            continue;
        }
        if res_sub == "*/*" {
            double = true;
        }
        if res_sub == "*" {
            single = true;
        }
        let Some((res, sub)) = res_sub.split_once('/') else {
            plain = res_sub != "*";
            continue;
        };
        if with_wildcard_sub.contains(res) {
            errs.push(invalid(
                &path.index(i),
                res_sub,
                &format!("if '{res}/*' is present, must not specify {res_sub}"),
            ));
        }
        if sub_with_wildcard_res.contains(sub) {
            errs.push(invalid(
                &path.index(i),
                res_sub,
                &format!("if '*/{sub}' is present, must not specify {res_sub}"),
            ));
        }
        if sub == "*" {
            with_wildcard_sub.insert(res);
        }
        if res == "*" {
            sub_with_wildcard_res.insert(sub);
        }
    }
    if list.len() > 1 && double {
        errs.push(invalid_json(path, &json!(list), "if '*/*' is present, must not specify other resources"));
    }
    if single && plain {
        errs.push(invalid_json(
            path,
            &json!(list),
            "if '*' is present, must not specify other resources without subresources",
        ));
    }
    errs
}

/// `validateRuleWithOperations`.
fn rule_with_operations(rule: &Value, path: &Path) -> Errs {
    let mut errs = Errs::new();
    let operations = strings(rule, &["operations"]);
    if operations.is_empty() {
        errs.push(required(&path.child("operations"), ""));
    }
    if operations.len() > 1 && operations.iter().any(|o| o == "*") {
        errs.push(invalid_json(
            &path.child("operations"),
            &json!(operations),
            "if '*' is present, must not specify other operations",
        ));
    }
    for (i, op) in operations.iter().enumerate() {
        if !OPERATIONS.contains(&op.as_str()) {
            errs.push(not_supported(&path.child("operations").index(i), op, OPERATIONS));
        }
    }
    let groups = strings(rule, &["apiGroups"]);
    if groups.is_empty() {
        errs.push(required(&path.child("apiGroups"), ""));
    }
    if groups.len() > 1 && groups.iter().any(|g| g == "*") {
        errs.push(invalid_json(
            &path.child("apiGroups"),
            &json!(groups),
            "if '*' is present, must not specify other API groups",
        ));
    }
    let versions = strings(rule, &["apiVersions"]);
    if versions.is_empty() {
        errs.push(required(&path.child("apiVersions"), ""));
    }
    if versions.len() > 1 && versions.iter().any(|v| v == "*") {
        errs.push(invalid_json(
            &path.child("apiVersions"),
            &json!(versions),
            "if '*' is present, must not specify other API versions",
        ));
    }
    for (i, version) in versions.iter().enumerate() {
        if version.is_empty() {
            errs.push(required(&path.child("apiVersions").index(i), ""));
        }
    }
    errs.extend(resources(&strings(rule, &["resources"]), &path.child("resources")));
    if let Some(scope) = str_at(rule, &["scope"])
        && !SCOPES.contains(&scope)
    {
        errs.push(not_supported(&path.child("scope"), scope, SCOPES));
    }
    errs
}

/// `validateMatchConditions` (expressions are not compiled).
fn match_conditions(object: &Value, path: &Path) -> Errs {
    let conditions = list_at(object, &["matchConditions"]);
    let mut errs = Errs::new();
    if conditions.len() > 64 {
        errs.push(too_many(path, conditions.len(), 64));
    }
    let mut names = BTreeSet::new();
    for (i, condition) in conditions.iter().enumerate() {
        let ip = path.index(i);
        if s(condition, &["expression"]).trim().is_empty() {
            errs.push(required(&ip.child("expression"), ""));
        }
        let name = s(condition, &["name"]);
        if name.is_empty() {
            errs.push(required(&ip.child("name"), ""));
        } else {
            errs.extend(qualified_name(name, &ip.child("name")));
            if !names.insert(name) {
                errs.push(duplicate(&ip.child("name"), name));
            }
        }
    }
    errs
}

/// The parts of a URL `ValidateWebhookURL` looks at, as Go's `url.Parse`
/// splits them: scheme, user info, host, query, fragment.
struct UrlParts<'a> {
    scheme: &'a str,
    user: Option<&'a str>,
    host: &'a str,
    query: &'a str,
    fragment: &'a str,
}

fn split_url(url: &str) -> UrlParts<'_> {
    let (rest, fragment) = url.split_once('#').unwrap_or((url, ""));
    let (scheme, rest) = match rest.split_once(':') {
        Some((scheme, rest))
            if !scheme.is_empty()
                && scheme.as_bytes()[0].is_ascii_alphabetic()
                && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')) =>
        {
            (scheme, rest)
        }
        _ => ("", rest),
    };
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (user, host) = match rest.strip_prefix("//") {
        Some(authority) => {
            let authority = authority.split('/').next().unwrap_or("");
            match authority.rsplit_once('@') {
                Some((user, host)) => (Some(user), host),
                None => (None, authority),
            }
        }
        None => (None, ""),
    };
    UrlParts { scheme, user, host, query, fragment }
}

/// `ValidateWebhookURL` (https only).
fn webhook_url(url: &str, path: &Path) -> Errs {
    const FORM: &str = "; desired format: https://host[/path]";
    let parts = split_url(url);
    let mut errs = Errs::new();
    if parts.scheme != "https" {
        errs.push(invalid(path, parts.scheme, &format!("'https' is the only allowed URL scheme{FORM}")));
    }
    if parts.host.is_empty() {
        errs.push(invalid(path, parts.host, &format!("host must be specified{FORM}")));
    }
    if let Some(user) = parts.user {
        errs.push(invalid(path, user, "user information is not permitted in the URL"));
    }
    if !parts.fragment.is_empty() {
        errs.push(invalid(path, parts.fragment, "fragments are not permitted in the URL"));
    }
    if !parts.query.is_empty() {
        errs.push(invalid(path, parts.query, "query parameters are not permitted in the URL"));
    }
    errs
}

/// `ValidateWebhookService`.
fn webhook_service(service: &Value, path: &Path) -> Errs {
    let mut errs = Errs::new();
    if s(service, &["name"]).is_empty() {
        errs.push(required(&path.child("name"), ""));
    }
    if s(service, &["namespace"]).is_empty() {
        errs.push(required(&path.child("namespace"), ""));
    }
    let port = int_at(service, &["port"]).unwrap_or(443);
    if !(1..=65535).contains(&port) {
        errs.push(invalid_int(&path.child("port"), port, "port is not valid: must be between 1 and 65535, inclusive"));
    }
    let Some(url_path) = str_at(service, &["path"]) else { return errs };
    if url_path == "/" || url_path.is_empty() {
        return errs;
    }
    let pp = path.child("path");
    if url_path == "//" {
        errs.push(invalid(&pp, url_path, "segment[0] may not be empty"));
        return errs;
    }
    if !url_path.starts_with('/') {
        errs.push(invalid(&pp, url_path, "must start with a '/'"));
    }
    let mut check = &url_path[1.min(url_path.len())..];
    if let Some(stripped) = check.strip_suffix('/') {
        check = stripped;
    }
    for (i, step) in check.split('/').enumerate() {
        if step.is_empty() {
            errs.push(invalid(&pp, url_path, &format!("segment[{i}] may not be empty")));
            continue;
        }
        for failure in is_dns1123_subdomain(step) {
            errs.push(invalid(&pp, url_path, &format!("segment[{i}]: {failure}")));
        }
    }
    errs
}

/// The options an update derives from the stored configuration.
struct WebhookOptions {
    require_no_side_effects: bool,
    require_recognized_version: bool,
    require_unique_names: bool,
}

/// `validateValidatingWebhook` / `validateMutatingWebhook`.
fn webhook(hook: &Value, mutating: bool, opts: &WebhookOptions, path: &Path) -> Errs {
    let mut errs = fully_qualified_name(s(hook, &["name"]), &path.child("name"));
    for (i, rule) in list_at(hook, &["rules"]).iter().enumerate() {
        errs.extend(rule_with_operations(rule, &path.child("rules").index(i)));
    }
    if let Some(policy) = str_at(hook, &["failurePolicy"])
        && !FAILURE_POLICIES.contains(&policy)
    {
        errs.push(not_supported(&path.child("failurePolicy"), policy, FAILURE_POLICIES));
    }
    if let Some(policy) = str_at(hook, &["matchPolicy"])
        && !MATCH_POLICIES.contains(&policy)
    {
        errs.push(not_supported(&path.child("matchPolicy"), policy, MATCH_POLICIES));
    }
    let allowed = if opts.require_no_side_effects { NO_SIDE_EFFECTS } else { SIDE_EFFECTS };
    match str_at(hook, &["sideEffects"]) {
        None => errs.push(required(&path.child("sideEffects"), &format!("must specify one of {}", allowed.join(", ")))),
        Some(effects) if !allowed.contains(&effects) => {
            errs.push(not_supported(&path.child("sideEffects"), effects, allowed))
        }
        Some(_) => {}
    }
    if let Some(timeout) = int_at(hook, &["timeoutSeconds"])
        && !(1..=30).contains(&timeout)
    {
        errs.push(invalid_int(
            &path.child("timeoutSeconds"),
            timeout,
            "the timeout value must be between 1 and 30 seconds",
        ));
    }
    errs.extend(label_selector(at(hook, &["namespaceSelector"]), &path.child("namespaceSelector")));
    errs.extend(label_selector(at(hook, &["objectSelector"]), &path.child("objectSelector")));
    if mutating
        && let Some(policy) = str_at(hook, &["reinvocationPolicy"])
        && !REINVOCATION_POLICIES.contains(&policy)
    {
        errs.push(not_supported(&path.child("reinvocationPolicy"), policy, REINVOCATION_POLICIES));
    }
    let cc = path.child("clientConfig");
    match (str_at(hook, &["clientConfig", "url"]), at(hook, &["clientConfig", "service"])) {
        (Some(url), None) => errs.extend(webhook_url(url, &cc.child("url"))),
        (None, Some(service)) => errs.extend(webhook_service(service, &cc.child("service"))),
        _ => errs.push(required(&cc, "exactly one of url or service is required")),
    }
    errs.extend(match_conditions(hook, &path.child("matchConditions")));
    errs
}

/// `validateAdmissionReviewVersions`.
fn review_versions(hook: &Value, require_recognized: bool, path: &Path) -> Errs {
    let versions = strings(hook, &["admissionReviewVersions"]);
    if versions.is_empty() {
        return vec![required(path, &format!("must specify one of {}", REVIEW_VERSIONS.join(", ")))];
    }
    let mut errs = Errs::new();
    let mut seen = BTreeSet::new();
    for (i, v) in versions.iter().enumerate() {
        if !seen.insert(v.as_str()) {
            errs.push(invalid(&path.index(i), v, "duplicate version"));
            continue;
        }
        for msg in is_dns1035_label(v) {
            errs.push(invalid(&path.index(i), v, &msg));
        }
    }
    if require_recognized && !versions.iter().any(|v| REVIEW_VERSIONS.contains(&v.as_str())) {
        errs.push(invalid_json(
            path,
            &json!(versions),
            &format!("must include at least one of {}", REVIEW_VERSIONS.join(", ")),
        ));
    }
    errs
}

/// `validate{Validating,Mutating}WebhookConfiguration` beyond metadata;
/// `old` relaxes what the stored configuration already had.
pub(super) fn webhooks_validate(object: &Value, mutating: bool, old: Option<&Value>) -> Errs {
    let opts = match old {
        None => WebhookOptions {
            require_no_side_effects: true,
            require_recognized_version: true,
            require_unique_names: true,
        },
        Some(old) => {
            let hooks = list_at(old, &["webhooks"]);
            let mut names = BTreeSet::new();
            WebhookOptions {
                require_no_side_effects: hooks
                    .iter()
                    .all(|h| str_at(h, &["sideEffects"]).is_some_and(|e| NO_SIDE_EFFECTS.contains(&e))),
                require_recognized_version: hooks.iter().all(|h| {
                    let versions = strings(h, &["admissionReviewVersions"]);
                    versions.is_empty() || versions.iter().any(|v| REVIEW_VERSIONS.contains(&v.as_str()))
                }),
                require_unique_names: hooks.iter().all(|h| names.insert(s(h, &["name"]))),
            }
        }
    };
    let wp = Path::new("webhooks");
    let mut errs = Errs::new();
    let mut names = BTreeSet::new();
    for (i, hook) in list_at(object, &["webhooks"]).iter().enumerate() {
        errs.extend(webhook(hook, mutating, &opts, &wp.index(i)));
        errs.extend(review_versions(
            hook,
            opts.require_recognized_version,
            &wp.index(i).child("admissionReviewVersions"),
        ));
        let name = s(hook, &["name"]);
        if opts.require_unique_names && !name.is_empty() && !names.insert(name) {
            errs.push(duplicate(&wp.index(i).child("name"), name));
        }
    }
    errs
}

/// `validateMatchResources`.
fn match_resources(resources: &Value, path: &Path) -> Errs {
    let mut errs = Errs::new();
    match str_at(resources, &["matchPolicy"]) {
        None => errs.push(required(&path.child("matchPolicy"), "")),
        Some(policy) if !MATCH_POLICIES.contains(&policy) => {
            errs.push(not_supported(&path.child("matchPolicy"), policy, MATCH_POLICIES))
        }
        Some(_) => {}
    }
    for key in ["namespaceSelector", "objectSelector"] {
        match at(resources, &[key]) {
            None => errs.push(required(&path.child(key), "")),
            Some(selector) => errs.extend(label_selector(Some(selector), &path.child(key))),
        }
    }
    for key in ["resourceRules", "excludeResourceRules"] {
        for (i, rule) in list_at(resources, &[key]).iter().enumerate() {
            let rp = path.child(key).index(i);
            let mut names = BTreeSet::new();
            for (j, name) in strings(rule, &["resourceNames"]).iter().enumerate() {
                let np = rp.child("resourceNames").index(j);
                for msg in validate_path_segment_name(name, false) {
                    errs.push(invalid(&np, name, &msg));
                }
                if !names.insert(name.clone()) {
                    errs.push(duplicate(&np, name));
                }
            }
            errs.extend(rule_with_operations(rule, &rp));
        }
    }
    errs
}

/// `validateParamKind`.
fn param_kind(kind: &Value, path: &Path) -> Errs {
    let mut errs = Errs::new();
    let api_version = s(kind, &["apiVersion"]);
    let ap = path.child("apiVersion");
    if api_version.is_empty() {
        errs.push(required(&ap, ""));
    } else if api_version != "/" {
        match api_version.matches('/').count() {
            0 | 1 => {
                let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
                if !group.is_empty() {
                    let msgs = is_dns1123_subdomain(group);
                    if !msgs.is_empty() {
                        errs.push(invalid(&ap, group, &msgs.join(",")));
                    }
                }
                if version.is_empty() {
                    errs.push(invalid(&ap, api_version, "version must be specified"));
                } else {
                    let msgs = is_dns1035_label(version);
                    if !msgs.is_empty() {
                        errs.push(invalid(&ap, version, &msgs.join(",")));
                    }
                }
            }
            _ => errs.push(invalid(&ap, api_version, &format!("unexpected GroupVersion string: {api_version}"))),
        }
    }
    let kind_name = s(kind, &["kind"]);
    if kind_name.is_empty() {
        errs.push(required(&path.child("kind"), ""));
    } else {
        let msgs = is_dns1035_label(&kind_name.to_lowercase());
        if !msgs.is_empty() {
            errs.push(invalid(
                &path.child("kind"),
                kind_name,
                &format!("may have mixed case, but should otherwise match: {}", msgs.join(",")),
            ));
        }
    }
    errs
}

fn is_cel_identifier(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_alphabetic() || b[0] == b'_')
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
        && !kubeplex_core::schema::cel::RESERVED.contains(&name)
}

/// `validateValidatingAdmissionPolicySpec` (no CEL compilation).
pub(super) fn policy_validate(object: &Value) -> Errs {
    let empty = json!({});
    let spec = at(object, &["spec"]).unwrap_or(&empty);
    let sp = Path::new("spec");
    let mut errs = Errs::new();
    match str_at(spec, &["failurePolicy"]) {
        None => errs.push(required(&sp.child("failurePolicy"), "")),
        Some(policy) if !FAILURE_POLICIES.contains(&policy) => {
            errs.push(not_supported(&sp.child("failurePolicy"), policy, FAILURE_POLICIES))
        }
        Some(_) => {}
    }
    if let Some(kind) = at(spec, &["paramKind"]) {
        errs.extend(param_kind(kind, &sp.child("paramKind")));
    }
    match at(spec, &["matchConstraints"]) {
        None => errs.push(required(&sp.child("matchConstraints"), "")),
        Some(constraints) => {
            errs.extend(match_resources(constraints, &sp.child("matchConstraints")));
            if list_at(constraints, &["resourceRules"]).is_empty() {
                errs.push(required(&sp.child("matchConstraints").child("resourceRules"), ""));
            }
        }
    }
    errs.extend(match_conditions(spec, &sp.child("matchConditions")));
    for (i, variable) in list_at(spec, &["variables"]).iter().enumerate() {
        let vp = sp.child("variables").index(i);
        let name = s(variable, &["name"]);
        if name.trim().is_empty() {
            errs.push(required(&vp.child("name"), "name is not specified"));
        } else if !is_cel_identifier(name) {
            errs.push(invalid(&vp.child("name"), name, "name is not a valid CEL identifier"));
        }
        if s(variable, &["expression"]).trim().is_empty() {
            errs.push(required(&vp.child("expression"), "expression is not specified"));
        }
    }
    let validations = list_at(spec, &["validations"]);
    let audits = list_at(spec, &["auditAnnotations"]);
    if validations.is_empty() && audits.is_empty() {
        let detail = "validations or auditAnnotations must contain at least one item";
        errs.push(required(&sp.child("validations"), detail));
        errs.push(required(&sp.child("auditAnnotations"), detail));
        return errs;
    }
    for (i, validation) in validations.iter().enumerate() {
        let vp = sp.child("validations").index(i);
        if s(validation, &["expression"]).trim().is_empty() {
            errs.push(required(&vp.child("expression"), "expression is not specified"));
        }
        let message_expression = s(validation, &["messageExpression"]);
        if !message_expression.is_empty() && message_expression.trim().is_empty() {
            errs.push(invalid(&vp.child("messageExpression"), message_expression, "must be non-empty if specified"));
        }
        let message = s(validation, &["message"]);
        if !message.is_empty() && message.trim().is_empty() {
            errs.push(invalid(&vp.child("message"), message, "message must be non-empty if specified"));
        } else if message.trim().contains(['\n', '\r']) {
            errs.push(invalid(&vp.child("message"), message, "message must not contain line breaks"));
        }
        if let Some(reason) = str_at(validation, &["reason"])
            && !POLICY_REASONS.contains(&reason)
        {
            errs.push(not_supported(&vp.child("reason"), reason, POLICY_REASONS));
        }
    }
    if at(spec, &["auditAnnotations"]).is_some() {
        let ap = sp.child("auditAnnotations");
        if audits.len() > 20 {
            errs.push(invalid_json(&ap, &json!(audits), "must not have more than 20 auditAnnotations"));
        }
        let policy_name = super::field::name_of(object);
        let mut keys = BTreeSet::new();
        for (i, audit) in audits.iter().enumerate() {
            let ip = ap.index(i);
            let key = s(audit, &["key"]);
            if policy_name.is_empty() {
                errs.push(invalid(&ip.child("key"), key, "requires metadata.name be non-empty"));
            } else {
                errs.extend(qualified_name(&format!("{policy_name}/{key}"), &ip.child("key")));
            }
            let expression = s(audit, &["valueExpression"]).trim();
            if expression.is_empty() {
                errs.push(required(&ip.child("valueExpression"), "valueExpression is not specified"));
            } else if expression.len() > 5 * 1024 {
                errs.push(required(&ip.child("valueExpression"), "must not exceed 5120 bytes in length"));
            }
            if !keys.insert(key) {
                errs.push(duplicate(&ip.child("key"), key));
            }
        }
    }
    errs
}

/// `validateValidatingAdmissionPolicyStatus`: type-checking warnings.
pub(super) fn policy_status_validate(object: &Value) -> Errs {
    let wp = Path::new("status.typeChecking.expressionWarnings");
    let mut errs = Errs::new();
    for (i, warning) in list_at(object, &["status", "typeChecking", "expressionWarnings"]).iter().enumerate() {
        if s(warning, &["warning"]).is_empty() {
            errs.push(required(&wp.index(i).child("warning"), ""));
        }
        if s(warning, &["fieldRef"]).trim().is_empty() {
            errs.push(required(&wp.index(i).child("fieldRef"), ""));
        }
    }
    errs
}

/// `validateValidatingAdmissionPolicyBindingSpec`.
pub(super) fn binding_validate(object: &Value) -> Errs {
    let empty = json!({});
    let spec = at(object, &["spec"]).unwrap_or(&empty);
    let sp = Path::new("spec");
    let mut errs = Errs::new();
    let policy = s(spec, &["policyName"]);
    if policy.is_empty() {
        errs.push(required(&sp.child("policyName"), ""));
    } else {
        for msg in is_dns1123_subdomain(policy) {
            errs.push(invalid(&sp.child("policyName"), policy, &msg));
        }
    }
    if let Some(param_ref) = at(spec, &["paramRef"]) {
        let pp = sp.child("paramRef");
        let name = s(param_ref, &["name"]);
        let selector = at(param_ref, &["selector"]);
        if !name.is_empty() {
            for msg in validate_path_segment_name(name, false) {
                errs.push(invalid(&pp.child("name"), name, &msg));
            }
            if selector.is_some() {
                errs.push(forbidden(&pp.child("name"), "name and selector are mutually exclusive"));
            }
        }
        if let Some(selector) = selector {
            errs.extend(label_selector(Some(selector), &pp.child("selector")));
            if !name.is_empty() {
                errs.push(forbidden(&pp.child("selector"), "name and selector are mutually exclusive"));
            }
        }
        if name.is_empty() && selector.is_none() {
            errs.push(required(&pp, "one of name or selector must be specified"));
        }
        match s(param_ref, &["parameterNotFoundAction"]) {
            "" => errs.push(required(&pp.child("parameterNotFoundAction"), "")),
            "Allow" | "Deny" => {}
            other => errs.push(not_supported(&pp.child("parameterNotFoundAction"), other, &["Deny", "Allow"])),
        }
    }
    if let Some(resources) = at(spec, &["matchResources"]) {
        errs.extend(match_resources(resources, &sp.child("matchResources")));
    }
    let ap = sp.child("validationActions");
    let actions = strings(spec, &["validationActions"]);
    let mut seen = BTreeSet::new();
    for (i, action) in actions.iter().enumerate() {
        if !VALIDATION_ACTIONS.contains(&action.as_str()) {
            errs.push(not_supported(&ap.index(i), action, VALIDATION_ACTIONS));
        }
        if !seen.insert(action.as_str()) {
            errs.push(duplicate(&ap.index(i), action));
        }
    }
    if seen.contains("Deny") && seen.contains("Warn") {
        errs.push(invalid_json(
            &ap,
            &json!(actions),
            "must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)",
        ));
    }
    if seen.is_empty() {
        errs.push(required(&ap, "at least one validation action is required"));
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::field::msgs;

    fn hook() -> Value {
        json!({"name": "check.example.com", "sideEffects": "None", "admissionReviewVersions": ["v1"],
               "clientConfig": {"service": {"name": "svc", "namespace": "ns"}},
               "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]}]})
    }

    #[test]
    fn webhook_defaults_and_valid_configuration() {
        let mut config = json!({"webhooks": [hook()]});
        webhook_defaults(&mut config, true);
        let h = &config["webhooks"][0];
        assert_eq!(h["failurePolicy"], "Fail");
        assert_eq!(h["matchPolicy"], "Equivalent");
        assert_eq!(h["namespaceSelector"], json!({}));
        assert_eq!(h["objectSelector"], json!({}));
        assert_eq!(h["timeoutSeconds"], 10);
        assert_eq!(h["reinvocationPolicy"], "Never");
        assert_eq!(h["rules"][0]["scope"], "*");
        assert_eq!(h["clientConfig"]["service"]["port"], 443);
        assert!(webhooks_validate(&config, true, None).is_empty());
        let mut validating = json!({"webhooks": [hook()]});
        webhook_defaults(&mut validating, false);
        assert!(validating["webhooks"][0].get("reinvocationPolicy").is_none());
    }

    #[test]
    fn webhook_errors() {
        let mut bad = hook();
        bad["name"] = json!("check");
        bad.as_object_mut().unwrap().remove("sideEffects");
        bad.as_object_mut().unwrap().remove("admissionReviewVersions");
        bad["clientConfig"] = json!({"url": "http://example.com/x?y=1"});
        let config = json!({"webhooks": [bad, hook(), hook()]});
        assert_eq!(
            msgs(&webhooks_validate(&config, false, None)),
            [
                "webhooks[0].name: Invalid value: \"check\": should be a domain with at least three segments separated by dots",
                "webhooks[0].sideEffects: Required value: must specify one of None, NoneOnDryRun",
                "webhooks[0].clientConfig.url: Invalid value: \"http\": 'https' is the only allowed URL scheme; desired format: https://host[/path]",
                "webhooks[0].clientConfig.url: Invalid value: \"y=1\": query parameters are not permitted in the URL",
                "webhooks[0].admissionReviewVersions: Required value: must specify one of v1, v1beta1",
                "webhooks[2].name: Duplicate value: \"check.example.com\"",
            ]
        );
    }

    #[test]
    fn policies_and_bindings() {
        let mut policy = json!({"metadata": {"name": "p"}, "spec": {"matchConstraints": {"resourceRules": [
            {"operations": ["CREATE"], "apiGroups": ["apps"], "apiVersions": ["v1"], "resources": ["deployments"]}]},
            "validations": [{"expression": "object.spec.replicas <= 5"}]}});
        policy_defaults(&mut policy, true);
        assert_eq!(policy["spec"]["failurePolicy"], "Fail");
        assert_eq!(policy["spec"]["matchConstraints"]["matchPolicy"], "Equivalent");
        assert!(policy_validate(&policy).is_empty());
        let empty = json!({"spec": {"failurePolicy": "Fail"}});
        assert_eq!(
            msgs(&policy_validate(&empty)),
            [
                "spec.matchConstraints: Required value",
                "spec.validations: Required value: validations or auditAnnotations must contain at least one item",
                "spec.auditAnnotations: Required value: validations or auditAnnotations must contain at least one item",
            ]
        );
        let binding = json!({"spec": {"policyName": "p", "validationActions": ["Deny", "Warn"],
                                      "paramRef": {"name": "x"}}});
        assert_eq!(
            msgs(&binding_validate(&binding)),
            [
                "spec.paramRef.parameterNotFoundAction: Required value",
                "spec.validationActions: Invalid value: [\"Deny\",\"Warn\"]: must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)",
            ]
        );
    }
}
