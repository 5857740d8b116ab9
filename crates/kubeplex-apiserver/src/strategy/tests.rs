//! The public strategy API on whole objects: the defaulted shapes
//! kube-apiserver returns for minimal creates, and the exact error texts.

use kubeplex_core::resource::{BUILTIN, ResourceDef, find};
use serde_json::{Value, json};

use super::*;

fn def(group: &str, plural: &str) -> &'static ResourceDef {
    let version = match group {
        "kubeplex.io" => "v1alpha1",
        _ => "v1",
    };
    find(BUILTIN, group, version, plural).expect("built-in resource")
}

/// What the caller does before `prepare_for_create`: name, namespace, uid.
fn created(group: &str, plural: &str, mut object: Value) -> Value {
    let d = def(group, plural);
    object["metadata"]["uid"] = json!("00000000-0000-0000-0000-000000000001");
    if d.namespaced && object["metadata"]["namespace"].is_null() {
        object["metadata"]["namespace"] = json!("default");
    }
    prepare_for_create(d, &mut object);
    object
}

fn create_error(group: &str, plural: &str, object: Value) -> String {
    let d = def(group, plural);
    let object = created(group, plural, object);
    validate_create(d, &object).expect_err("invalid").message
}

#[test]
fn deployment_minimal_create() {
    // `kubectl create deployment web --image=nginx`
    let object = created(
        "apps",
        "deployments",
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "web"}},
                "strategy": {},
                "template": {
                    "metadata": {"creationTimestamp": null, "labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "nginx", "image": "nginx", "resources": {}}]}
                }
            },
            "status": {}
        }),
    );
    assert!(validate_create(def("apps", "deployments"), &object).is_ok());
    assert_eq!(
        object["spec"],
        json!({
            "replicas": 1,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [{
                        "name": "nginx", "image": "nginx", "resources": {},
                        "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
                        "imagePullPolicy": "Always"
                    }],
                    "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
                    "securityContext": {}, "schedulerName": "default-scheduler"
                }
            },
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600
        })
    );
    assert_eq!(object["status"], json!({}));
}

#[test]
fn deployment_errors() {
    let template = json!({"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "a", "image": "a"}]}});
    assert_eq!(
        create_error("apps", "deployments", json!({"metadata": {"name": "web"}, "spec": {"template": template}})),
        "Deployment.apps \"web\" is invalid: [spec.selector: Required value, spec.template.metadata.labels: Invalid value: {\"app\":\"x\"}: `selector` does not match template `labels`]"
    );
    assert_eq!(
        create_error(
            "apps",
            "deployments",
            json!({"metadata": {"name": "web"}, "spec": {"replicas": -1, "selector": {"matchLabels": {"app": "x"}}, "template": template}})
        ),
        "Deployment.apps \"web\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0"
    );
    let d = def("apps", "deployments");
    let old = created(
        "apps",
        "deployments",
        json!({"metadata": {"name": "web"}, "spec": {"selector": {"matchLabels": {"app": "x"}}, "template": template}}),
    );
    let mut new = old.clone();
    new["spec"]["selector"] = json!({"matchLabels": {"app": "x", "tier": "fe"}});
    new["spec"]["template"]["metadata"]["labels"]["tier"] = json!("fe");
    prepare_for_update(d, &mut new, &old);
    let err = validate_update(d, &new, &old).expect_err("immutable");
    assert_eq!(
        err.message,
        "Deployment.apps \"web\" is invalid: spec.selector: Invalid value: {\"matchLabels\":{\"app\":\"x\",\"tier\":\"fe\"}}: field is immutable"
    );
    assert_eq!(err.to_status()["details"]["causes"][0]["reason"], "FieldValueInvalid");
}

#[test]
fn deployment_generation_follows_spec_and_annotations() {
    let d = def("apps", "deployments");
    let mut old = created(
        "apps",
        "deployments",
        json!({"metadata": {"name": "web"}, "spec": {"selector": {"matchLabels": {"app": "x"}},
            "template": {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "a", "image": "a"}]}}}}),
    );
    old["metadata"]["generation"] = json!(1);
    old["status"] = json!({"replicas": 1});
    let mut new = old.clone();
    new["metadata"]["annotations"] = json!({"note": "x"});
    new["status"] = json!({"replicas": 5});
    prepare_for_update(d, &mut new, &old);
    assert_eq!(new["metadata"]["generation"], 2);
    assert_eq!(new["status"], json!({"replicas": 1}));
}

#[test]
fn pod_minimal_create() {
    // `kubectl run nginx --image=nginx`
    let object = created(
        "",
        "pods",
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "nginx", "labels": {"run": "nginx"}},
               "spec": {"containers": [{"name": "nginx", "image": "nginx", "resources": {}}],
                        "dnsPolicy": "ClusterFirst", "restartPolicy": "Always"},
               "status": {}}),
    );
    assert!(validate_create(def("", "pods"), &object).is_ok());
    assert_eq!(
        object["spec"],
        json!({
            "containers": [{
                "name": "nginx", "image": "nginx", "resources": {}, "imagePullPolicy": "Always",
                "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"
            }],
            "dnsPolicy": "ClusterFirst", "restartPolicy": "Always", "enableServiceLinks": true,
            "securityContext": {}, "terminationGracePeriodSeconds": 30, "schedulerName": "default-scheduler"
        })
    );
    assert_eq!(object["status"], json!({"phase": "Pending", "qosClass": "BestEffort"}));
    assert_eq!(object["metadata"]["generation"], 1);
}

#[test]
fn pod_errors() {
    assert_eq!(
        create_error("", "pods", json!({"metadata": {"name": "p"}, "spec": {}})),
        "Pod \"p\" is invalid: spec.containers: Required value"
    );
    assert_eq!(
        create_error(
            "",
            "pods",
            json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a"}, {"name": "a", "image": "b"}]}})
        ),
        "Pod \"p\" is invalid: [spec.containers[0].image: Required value, spec.containers[1].name: Duplicate value: \"a\"]"
    );
    let d = def("", "pods");
    let old = created(
        "",
        "pods",
        json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a", "image": "a:1"}]}}),
    );
    let mut new = old.clone();
    new["spec"]["containers"][0]["image"] = json!("a:2");
    new["status"] = json!({"phase": "Running"});
    prepare_for_update(d, &mut new, &old);
    assert_eq!(new["status"]["phase"], "Pending");
    assert!(validate_update(d, &new, &old).is_ok());
    new["spec"]["containers"][0]["command"] = json!(["sh"]);
    let err = validate_update(d, &new, &old).expect_err("forbidden");
    assert!(err.message.starts_with(
        "Pod \"p\" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`"
    ));
}

#[test]
fn pod_quantities_and_qos() {
    let object = created(
        "",
        "pods",
        json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a", "image": "a",
            "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}}}]}}),
    );
    assert_eq!(object["spec"]["containers"][0]["resources"]["requests"], json!({"cpu": "500m", "memory": "128Mi"}));
    assert_eq!(object["status"]["qosClass"], "Guaranteed");
    let bad = created(
        "",
        "pods",
        json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a", "image": "a",
            "resources": {"limits": {"cpu": "much"}}}]}}),
    );
    let err = validate_create(def("", "pods"), &bad).expect_err("bad quantity");
    assert_eq!(err.code, 400);
    assert_eq!(
        err.message,
        "Pod in version \"v1\" cannot be handled as a Pod: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    );
}

#[test]
fn service_minimal_create_and_names() {
    // `kubectl create service clusterip web --tcp=80:8080`
    let object = created(
        "",
        "services",
        json!({"metadata": {"name": "web", "labels": {"app": "web"}},
               "spec": {"ports": [{"name": "80-8080", "port": 80, "protocol": "TCP", "targetPort": 8080}],
                        "selector": {"app": "web"}, "type": "ClusterIP"},
               "status": {"loadBalancer": {}}}),
    );
    assert!(validate_create(def("", "services"), &object).is_ok());
    assert_eq!(object["spec"]["sessionAffinity"], "None");
    assert_eq!(object["spec"]["internalTrafficPolicy"], "Cluster");
    assert_eq!(object["spec"]["ipFamilyPolicy"], "SingleStack");
    assert_eq!(object["spec"]["ipFamilies"], json!(["IPv4"]));
    assert_eq!(object["status"], json!({"loadBalancer": {}}));
    assert_eq!(
        create_error("", "services", json!({"metadata": {"name": "1web"}, "spec": {"ports": [{"port": 80}]}})),
        "Service \"1web\" is invalid: metadata.name: Invalid value: \"1web\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
    );
    assert_eq!(
        create_error("", "services", json!({"metadata": {"name": "web"}, "spec": {"ports": [{"port": 0}]}})),
        "Service \"web\" is invalid: [spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive, spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive]"
    );
}

#[test]
fn namespace_create_and_names() {
    let d = def("", "namespaces");
    let mut object = json!({"metadata": {"name": "demo"}});
    prepare_for_create(d, &mut object);
    assert_eq!(object["metadata"]["labels"], json!({"kubernetes.io/metadata.name": "demo"}));
    assert_eq!(object["spec"], json!({"finalizers": ["kubernetes"]}));
    assert_eq!(object["status"], json!({"phase": "Active"}));
    assert!(validate_create(d, &object).is_ok());
    let mut dotted = json!({"metadata": {"name": "a.b"}});
    prepare_for_create(d, &mut dotted);
    assert_eq!(
        validate_create(d, &dotted).expect_err("dots").message,
        "Namespace \"a.b\" is invalid: metadata.name: Invalid value: \"a.b\": must not contain dots"
    );
    let mut update = object.clone();
    update["spec"]["finalizers"] = json!([]);
    update["metadata"]["labels"] = json!({});
    prepare_for_update(d, &mut update, &object);
    assert_eq!(update["spec"]["finalizers"], json!(["kubernetes"]));
    assert_eq!(update["metadata"]["labels"]["kubernetes.io/metadata.name"], "demo");
}

#[test]
fn job_create_and_update() {
    // `kubectl create job pi --image=perl`
    let d = def("batch", "jobs");
    let object = created(
        "batch",
        "jobs",
        json!({"metadata": {"name": "pi"}, "spec": {"template": {"metadata": {"creationTimestamp": null},
            "spec": {"containers": [{"name": "pi", "image": "perl", "resources": {}}], "restartPolicy": "Never"}}},
            "status": {}}),
    );
    assert!(validate_create(d, &object).is_ok());
    let uid = "00000000-0000-0000-0000-000000000001";
    assert_eq!(object["spec"]["selector"], json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}));
    assert_eq!(object["metadata"]["labels"]["job-name"], "pi");
    assert_eq!(object["spec"]["template"]["metadata"]["labels"]["controller-uid"], uid);
    let mut new = object.clone();
    new["spec"]["template"]["spec"]["containers"][0]["image"] = json!("perl:5");
    prepare_for_update(d, &mut new, &object);
    let err = validate_update(d, &new, &object).expect_err("immutable template");
    assert!(err.message.starts_with("Job.batch \"pi\" is invalid: spec.template: Invalid value: {"), "{}", err.message);
    assert!(err.message.ends_with("}: field is immutable"));
    assert_eq!(
        create_error(
            "batch",
            "jobs",
            json!({"metadata": {"name": "pi"}, "spec": {"template": {"spec": {"containers": [{"name": "pi", "image": "perl"}]}}}})
        ),
        "Job.batch \"pi\" is invalid: spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\""
    );
}

#[test]
fn job_with_template_labels_gets_them_all() {
    let object = created(
        "batch",
        "jobs",
        json!({"metadata": {"name": "pi"}, "spec": {"template": {"metadata": {"labels": {"app": "pi"}},
            "spec": {"containers": [{"name": "pi", "image": "perl"}], "restartPolicy": "OnFailure"}}}}),
    );
    assert_eq!(object["metadata"]["labels"], object["spec"]["template"]["metadata"]["labels"]);
    assert_eq!(object["metadata"]["labels"]["app"], "pi");
    let own = created(
        "batch",
        "jobs",
        json!({"metadata": {"name": "pi", "labels": {"team": "a"}}, "spec": {"template": {"metadata": {"labels": {"app": "pi"}},
            "spec": {"containers": [{"name": "pi", "image": "perl"}], "restartPolicy": "OnFailure"}}}}),
    );
    assert_eq!(own["metadata"]["labels"], json!({"team": "a"}));
}

#[test]
fn configmaps_secrets_and_metadata() {
    assert_eq!(
        create_error(
            "",
            "configmaps",
            json!({"metadata": {"name": "c", "labels": {"a/b/c": "x"}}, "data": {"k": "v"}})
        ),
        "ConfigMap \"c\" is invalid: metadata.labels: Invalid value: \"a/b/c\": a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
    );
    let secret = created("", "secrets", json!({"metadata": {"name": "s"}, "stringData": {"password": "hunter2"}}));
    assert_eq!(secret["type"], "Opaque");
    assert_eq!(secret["data"], json!({"password": "aHVudGVyMg=="}));
    assert!(secret.get("stringData").is_none());
    let d = def("", "secrets");
    let mut locked = secret.clone();
    locked["immutable"] = json!(true);
    let mut changed = locked.clone();
    changed["data"]["password"] = json!("eA==");
    prepare_for_update(d, &mut changed, &locked);
    assert_eq!(
        validate_update(d, &changed, &locked).expect_err("immutable").message,
        "Secret \"s\" is invalid: data: Forbidden: field is immutable when `immutable` is set"
    );
    let err = validate_create(d, &created("", "secrets", json!({"metadata": {"name": "s"}, "data": {"a": "%%%"}})))
        .expect_err("base64");
    assert_eq!(
        err.message,
        "Secret in version \"v1\" cannot be handled as a Secret: illegal base64 data at input byte 0"
    );
}

#[test]
fn cluster_scoped_and_generate_name() {
    let d = def("", "nodes");
    let mut node = json!({"metadata": {"name": "n1", "namespace": "default"}});
    prepare_for_create(d, &mut node);
    assert_eq!(
        validate_create(d, &node).expect_err("namespace").message,
        "Node \"n1\" is invalid: metadata.namespace: Forbidden: not allowed on this type"
    );
    let d = def("", "configmaps");
    let mut cm = json!({"metadata": {"name": "abcde", "generateName": "Bad-", "namespace": "default"}});
    prepare_for_create(d, &mut cm);
    let err = validate_create(d, &cm).expect_err("generateName");
    assert_eq!(err.causes()[0].field, "metadata.generateName");
}

#[test]
fn events_in_both_versions() {
    let core = def("", "events");
    let mut event = json!({"metadata": {"name": "p.1", "namespace": "default"},
        "involvedObject": {"kind": "Pod", "name": "p", "namespace": "default"}, "reason": "Started",
        "message": "ok", "type": "Normal"});
    prepare_for_create(core, &mut event);
    assert_eq!(event["eventTime"], Value::Null);
    assert_eq!(event["reportingComponent"], "");
    assert!(validate_create(core, &event).is_ok());
    let events = def("events.k8s.io", "events");
    let mut new_style = json!({"metadata": {"name": "p.2", "namespace": "default"}, "note": "x"});
    prepare_for_create(events, &mut new_style);
    let err = validate_create(events, &new_style).expect_err("strict");
    assert!(err.message.starts_with("Event.events.k8s.io \"p.2\" is invalid: ["), "{}", err.message);
    assert!(err.causes().iter().any(|c| c.field == "eventTime" && c.message == "Required value"));
}

#[test]
fn leases_slices_clusters_and_others() {
    let lease = created("coordination.k8s.io", "leases", json!({"metadata": {"name": "l"}}));
    assert_eq!(lease["spec"], json!({}));
    assert!(validate_create(def("coordination.k8s.io", "leases"), &lease).is_ok());
    let slice = created(
        "discovery.k8s.io",
        "endpointslices",
        json!({"metadata": {"name": "s"}, "addressType": "IPv4", "endpoints": [{"addresses": ["10.1.2.3"]}]}),
    );
    assert_eq!(slice["metadata"]["generation"], 1);
    assert_eq!(slice["ports"], Value::Null);
    assert!(validate_create(def("discovery.k8s.io", "endpointslices"), &slice).is_ok());
    let lc = def("kubeplex.io", "logicalclusters");
    let mut cluster = json!({"metadata": {"name": "team-a"}});
    prepare_for_create(lc, &mut cluster);
    assert!(validate_create(lc, &cluster).is_ok());
    let mut bad = json!({"metadata": {"name": "team.a"}});
    prepare_for_create(lc, &mut bad);
    assert!(validate_create(lc, &bad).is_err());
}

#[test]
fn maps_serialize_sorted() {
    let cm = created(
        "",
        "configmaps",
        json!({"metadata": {"name": "c", "labels": {"b": "2", "a": "1"}}, "data": {"z": "1", "y": "2"}}),
    );
    let keys: Vec<&String> = cm["metadata"]["labels"].as_object().expect("labels").keys().collect();
    assert_eq!(keys, ["a", "b"]);
    let keys: Vec<&String> = cm["data"].as_object().expect("data").keys().collect();
    assert_eq!(keys, ["y", "z"]);
    let ns = created("", "namespaces", json!({"metadata": {"name": "demo", "labels": {"zone": "x", "app": "y"}}}));
    let keys: Vec<&String> = ns["metadata"]["labels"].as_object().expect("labels").keys().collect();
    assert_eq!(keys, ["app", "kubernetes.io/metadata.name", "zone"]);
}
