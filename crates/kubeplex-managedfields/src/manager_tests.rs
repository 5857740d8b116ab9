//! Ownership scenarios of the issue, on Deployments.

use super::*;
use serde_json::json;

fn deployments() -> FieldManager {
    FieldManager::new(Schema::builtin("io.k8s.api.apps.v1.Deployment").expect("Deployment"), &["status"])
}

fn writer(manager: &str) -> Writer<'_> {
    Writer { manager, api_version: "apps/v1", subresource: "", now: "2026-11-22T10:00:00Z" }
}

fn config(replicas: i64, image: &str, labels: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": labels},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": image}]}}}})
}

fn entries(object: &Value) -> Vec<Entry> {
    decode(&object["metadata"]["managedFields"]).expect("managed fields")
}

fn owner_paths(object: &Value, manager: &str) -> Vec<String> {
    let e = entries(object).into_iter().find(|e| e.manager == manager).expect(manager);
    e.fields.paths().iter().map(|p| display(p)).collect()
}

#[test]
fn apply_creates_and_owns_what_it_sets() {
    let m = deployments();
    let object = m.apply(None, &config(2, "nginx", json!({"a": "1"})), &writer("kubectl"), false).unwrap();
    let list = object["metadata"]["managedFields"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["manager"], "kubectl");
    assert_eq!(list[0]["operation"], "Apply");
    assert_eq!(list[0]["apiVersion"], "apps/v1");
    assert_eq!(list[0]["time"], "2026-11-22T10:00:00Z");
    assert_eq!(list[0]["fieldsType"], "FieldsV1");
    assert_eq!(
        list[0]["fieldsV1"],
        json!({"f:metadata": {"f:labels": {"f:a": {}}}, "f:spec": {"f:replicas": {}, "f:selector": {},
            "f:template": {"f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {"f:containers": {"k:{\"name\":\"web\"}": {".": {}, "f:image": {}, "f:name": {}}}}}}})
    );
}

#[test]
fn conflicts_name_the_other_manager_and_force_takes_over() {
    let m = deployments();
    let object = m.apply(None, &config(2, "nginx", json!({})), &writer("kubectl"), false).unwrap();
    let err = m.apply(Some(&object), &config(3, "nginx", json!({})), &writer("other"), false).unwrap_err();
    assert_eq!(err.to_string(), "Apply failed with 1 conflict: conflict with \"kubectl\": .spec.replicas");
    let err = m.apply(Some(&object), &config(3, "nginx:2", json!({})), &writer("other"), false).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Apply failed with 2 conflicts: conflicts with \"kubectl\":\n- .spec.replicas\n- .spec.template.spec.containers[name=\"web\"].image"
    );
    // The same values: shared, no conflict.
    let shared = m.apply(Some(&object), &config(2, "nginx", json!({})), &writer("other"), false).unwrap();
    assert!(owner_paths(&shared, "other").contains(&".spec.replicas".to_owned()));
    assert!(owner_paths(&shared, "kubectl").contains(&".spec.replicas".to_owned()));
    let forced = m.apply(Some(&object), &config(3, "nginx", json!({})), &writer("other"), true).unwrap();
    assert_eq!(forced["spec"]["replicas"], 3);
    assert!(!owner_paths(&forced, "kubectl").contains(&".spec.replicas".to_owned()));
    assert!(owner_paths(&forced, "other").contains(&".spec.replicas".to_owned()));
}

#[test]
fn dropped_fields_go_unless_someone_else_owns_them() {
    let m = deployments();
    let a = writer("a");
    let object = m.apply(None, &config(1, "nginx", json!({"x": "1", "y": "2"})), &a, false).unwrap();
    let shared = m.apply(Some(&object), &config(1, "nginx", json!({"y": "2"})), &writer("b"), false).unwrap();
    let without = m.apply(Some(&object), &config(1, "nginx", json!({"x": "1"})), &a, false).unwrap();
    assert_eq!(without["metadata"]["labels"], json!({"x": "1"}));
    let kept = m.apply(Some(&shared), &config(1, "nginx", json!({"x": "1"})), &a, false).unwrap();
    assert_eq!(kept["metadata"]["labels"], json!({"x": "1", "y": "2"}));
    // Dropping every label removes the map; dropping a container removes it.
    let mut two = config(1, "nginx", json!({"x": "1"}));
    two["spec"]["template"]["spec"]["containers"] =
        json!([{"name": "web", "image": "nginx"}, {"name": "side", "image": "s"}]);
    let object = m.apply(None, &two, &a, false).unwrap();
    let mut one = config(1, "nginx", json!({}));
    one["metadata"].as_object_mut().unwrap().remove("labels");
    let out = m.apply(Some(&object), &one, &a, false).unwrap();
    assert!(out["metadata"].get("labels").is_none(), "{out}");
    assert_eq!(out["spec"]["template"]["spec"]["containers"].as_array().unwrap().len(), 1);
}

#[test]
fn updates_record_their_manager_and_take_ownership() {
    let m = deployments();
    let mut created = config(1, "nginx", json!({}));
    created["spec"]["strategy"] = json!({"type": "RollingUpdate"});
    m.update(None, &mut created, &writer("kubectl-create"));
    let e = entries(&created);
    assert_eq!(e.len(), 1);
    assert_eq!((e[0].manager.as_str(), e[0].operation), ("kubectl-create", Operation::Update));
    assert!(owner_paths(&created, "kubectl-create").contains(&".spec.strategy.type".to_owned()));
    assert!(!owner_paths(&created, "kubectl-create").contains(&".metadata.name".to_owned()));
    // An apply of the same replicas conflicts with the creator when it changes them.
    let err = m.apply(Some(&created), &config(5, "nginx", json!({})), &writer("kubectl"), false).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Apply failed with 1 conflict: conflict with \"kubectl-create\" using apps/v1: .spec.replicas"
    );
    // An update takes the fields it changes from others.
    let mut scaled = created.clone();
    scaled["spec"]["replicas"] = json!(4);
    m.update(Some(&created), &mut scaled, &Writer { subresource: "scale", ..writer("kubectl-scale") });
    assert_eq!(owner_paths(&scaled, "kubectl-scale"), [".spec.replicas"]);
    assert!(!owner_paths(&scaled, "kubectl-create").contains(&".spec.replicas".to_owned()));
    let err = m.apply(Some(&scaled), &config(3, "nginx", json!({})), &writer("kubectl"), false).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("conflict with \"kubectl-scale\" with subresource \"scale\" using apps/v1: .spec.replicas"),
        "{err}"
    );
    // Status changes through the object are nobody's.
    let mut with_status = scaled.clone();
    with_status["status"] = json!({"replicas": 4});
    m.update(Some(&scaled), &mut with_status, &writer("x"));
    assert!(entries(&with_status).iter().all(|e| e.manager != "x"));
}

#[test]
fn managed_fields_can_be_replaced_or_reset_and_untracked_objects_stay_so() {
    let m = deployments();
    let mut created = config(1, "nginx", json!({}));
    m.update(None, &mut created, &writer("c"));
    let mut reset = created.clone();
    reset["metadata"]["managedFields"] = json!([{}]);
    reset["spec"]["replicas"] = json!(2);
    m.update(Some(&created), &mut reset, &writer("u"));
    assert!(reset["metadata"].get("managedFields").is_none());
    let mut again = reset.clone();
    again["spec"]["replicas"] = json!(3);
    m.update(Some(&reset), &mut again, &writer("u"));
    assert!(again["metadata"].get("managedFields").is_none());
    // The first apply to an untracked object gives the rest to before-first-apply.
    let applied = m.apply(Some(&again), &config(3, "nginx", json!({})), &writer("kubectl"), false).unwrap();
    let names: Vec<String> = entries(&applied).into_iter().map(|e| e.manager).collect();
    assert_eq!(names, ["kubectl", BEFORE_FIRST_APPLY]);
    // Garbage in managedFields of an update falls back to the live ones.
    let mut garbage = created.clone();
    garbage["metadata"]["managedFields"] = json!([{"operation": "Nope"}]);
    m.update(Some(&created), &mut garbage, &writer("c"));
    assert_eq!(entries(&garbage), entries(&created));
}

#[test]
fn client_side_apply_fields_move_to_kubectl_apply() {
    let m = deployments();
    let mut manifest = config(2, "nginx", json!({}));
    let last = serde_json::to_string(&manifest).unwrap();
    manifest["metadata"]["annotations"] = json!({LAST_APPLIED: last});
    m.update(None, &mut manifest, &writer("kubectl-client-side-apply"));
    let same = config(2, "nginx", json!({}));
    let applied = m.apply(Some(&manifest), &same, &writer("kubectl"), false).unwrap();
    assert!(owner_paths(&applied, "kubectl").contains(&".spec.replicas".to_owned()));
    let text = applied["metadata"]["annotations"][LAST_APPLIED].as_str().unwrap();
    assert!(text.ends_with("}\n") && text.starts_with("{\"apiVersion\":\"apps/v1\",\"kind\":"), "{text}");
    // Only kubectl gets that pass.
    assert!(m.apply(Some(&manifest), &config(3, "nginx", json!({})), &writer("k"), false).is_err());
}

#[test]
fn applied_configurations_must_fit_the_schema() {
    let m = deployments();
    let mut bad = config(1, "x", json!({}));
    bad["spec"]["bogus"] = json!(1);
    assert_eq!(
        m.apply(None, &bad, &writer("k"), false).unwrap_err().to_string(),
        ".spec.bogus: field not declared in schema"
    );
}

#[test]
fn user_agents_name_managers() {
    assert_eq!(manager_from_user_agent("kubectl/v1.36.0 (linux/amd64) kubernetes/abc"), "kubectl");
    assert_eq!(manager_from_user_agent(""), "unknown");
    assert_eq!(manager_from_user_agent(&"x".repeat(300)).len(), MAX_MANAGER_BYTES);
}

#[test]
fn update_managers_are_capped() {
    let m = deployments();
    let mut object = config(1, "nginx", json!({}));
    m.update(None, &mut object, &writer("creator"));
    for i in 0..12 {
        let mut next = object.clone();
        next["metadata"]["labels"][format!("l{i}")] = json!("x");
        let name = format!("m{i}");
        let now = format!("2026-11-22T10:00:{i:02}Z");
        m.update(Some(&object), &mut next, &Writer { manager: &name, now: &now, ..writer("") });
        object = next;
    }
    let e = entries(&object);
    assert!(e.iter().filter(|e| e.operation == Operation::Update).count() <= 10, "{e:?}");
    assert!(e.iter().any(|e| e.manager == "ancient-changes"));
}

#[test]
fn creates_compare_with_the_zero_object() {
    let m = deployments();
    let mut created = config(1, "nginx", json!({"app": "web"}));
    created["spec"]["strategy"] = json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%"}});
    m.update(None, &mut created, &writer("kubectl-create"));
    let fields = &created["metadata"]["managedFields"][0]["fieldsV1"];
    // Struct fields Go always encodes are not members; maps and pointers are.
    assert!(fields["f:spec"].get(".").is_none(), "{fields}");
    assert!(fields["f:spec"]["f:template"]["f:spec"]["f:containers"].get(".").is_none(), "{fields}");
    assert!(fields["f:spec"]["f:strategy"]["f:rollingUpdate"].get(".").is_some(), "{fields}");
    assert!(fields["f:metadata"]["f:labels"].get(".").is_some(), "{fields}");
}

#[test]
fn an_applier_letting_go_of_everything_keeps_the_identity() {
    let m = deployments();
    let object = m.apply(None, &config(1, "nginx", json!({"team": "a"})), &writer("a"), false).unwrap();
    let bare = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "ns"}});
    let mut live = object.clone();
    live["metadata"]["namespace"] = json!("ns");
    let shared = m.apply(Some(&live), &json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "ns", "labels": {"team": "a"}}}), &writer("b"), false).unwrap();
    let out = m.apply(Some(&shared), &bare, &writer("b"), false).unwrap();
    assert_eq!(out["metadata"]["name"], "web", "{out}");
    assert_eq!(out["metadata"]["namespace"], "ns", "{out}");
    assert_eq!(out["metadata"]["labels"], json!({"team": "a"}), "still a's");
    // a lets go of its labels, then b: the labels go, the identity stays.
    let mut no_labels = config(1, "nginx", json!({}));
    no_labels["metadata"].as_object_mut().unwrap().remove("labels");
    let only_b = m.apply(Some(&shared), &no_labels, &writer("a"), false).unwrap();
    assert_eq!(only_b["metadata"]["labels"], json!({"team": "a"}), "b's");
    let out = m.apply(Some(&only_b), &bare, &writer("b"), false).unwrap();
    assert_eq!(out["metadata"]["name"], "web", "{out}");
    assert_eq!(out["metadata"]["namespace"], "ns", "{out}");
    assert!(out["metadata"].get("labels").is_none(), "{out}");
}
