//! Server-side apply end to end with real kubectl 1.32 and 1.37 (k8s-api.md
//! §5.5, §5.6): `apply --server-side` creating and updating a Deployment
//! with its `managedFields` (`--show-managed-fields`, hidden otherwise but
//! sent by the server); a conflict between two appliers with upstream's
//! message and kubectl's advice, then `--force-conflicts`; fields dropped by
//! their only applier removed, co-owned ones kept; a conflict with
//! `kubectl scale` (an Update manager of the `scale` subresource); the
//! migration from client-side apply; the manager of every write (`create`,
//! `label`, `annotate`, `patch`); lists of a custom resource merged per
//! `x-kubernetes-list-type`; and the raw requests kubectl cannot send
//! (no `fieldManager`, YAML bodies, `force` on a merge patch).

mod common;

use kubeplex_testing::{Kubectl, KubeplexServer};
use serde_json::{Value, json};

fn server() -> KubeplexServer {
    KubeplexServer::start(env!("CARGO_BIN_EXE_kubeplex")).expect("start kubeplex server")
}

fn both(server: &KubeplexServer) -> [Kubectl; 2] {
    [Kubectl::v1_32(server.kubeconfig()).unwrap(), Kubectl::v1_37(server.kubeconfig()).unwrap()]
}

/// `web-1-32` for `web` and kubectl 1.32: every kubectl gets its own objects.
fn named(base: &str, k: &Kubectl) -> String {
    format!("{base}-{}", k.version.replace('.', "-"))
}

/// kubectl's advice after an apply conflict (`pkg/cmd/apply/apply.go`),
/// printed after the server's message.
const CONFLICT_ADVICE: &str = "Please review the fields above--they currently have other managers. Here
are the ways you can resolve this warning:
* If you intend to manage all of these fields, please re-run the apply
  command with the `--force-conflicts` flag.
* If you do not intend to manage all of the fields, please edit your
  manifest to remove references to the fields that should keep their
  current managers.
* You may co-own fields by updating your manifest to match the existing
  value; in this case, you'll become the manager if the other manager(s)
  stop managing the field (remove it from their configuration).
See https://kubernetes.io/docs/reference/using-api/server-side-apply/#conflicts
";

/// What kubectl prints for an apply conflict whose server message is `message`.
fn conflict_stderr(message: &str) -> String {
    format!("error: {message}\n{CONFLICT_ADVICE}")
}

/// `kubectl apply --server-side -f -` of `manifest` plus `extra`, which must
/// succeed; returns stdout.
#[track_caller]
fn ssa(k: &Kubectl, manifest: &str, extra: &[&str]) -> String {
    let mut args = vec!["apply", "--server-side", "-f", "-"];
    args.extend_from_slice(extra);
    k.ok_with_input(&args, Some(manifest)).unwrap()
}

/// The same, which must fail; returns stderr.
#[track_caller]
fn ssa_fails(k: &Kubectl, manifest: &str, extra: &[&str]) -> String {
    let mut args = vec!["apply", "--server-side", "-f", "-"];
    args.extend_from_slice(extra);
    k.fails_with_input(&args, Some(manifest)).unwrap()
}

#[track_caller]
fn get_json(k: &Kubectl, args: &[&str]) -> Value {
    let mut all = vec!["get", "-o", "json"];
    all.extend_from_slice(args);
    serde_json::from_str(&k.ok(&all).unwrap()).unwrap()
}

/// The object with its `managedFields` (`--show-managed-fields`).
#[track_caller]
fn get_managed(k: &Kubectl, args: &[&str]) -> Value {
    let mut all = vec!["get", "-o", "json", "--show-managed-fields"];
    all.extend_from_slice(args);
    serde_json::from_str(&k.ok(&all).unwrap()).unwrap()
}

/// `metadata.managedFields` without the entries of the `status`
/// subresource (a controller may add one; nothing here is about it).
fn entries(object: &Value) -> Vec<Value> {
    let all = object["metadata"]["managedFields"].as_array().cloned().unwrap_or_default();
    all.into_iter().filter(|e| e.get("subresource").is_none_or(|s| s != "status")).collect()
}

/// The one entry of `manager` with `operation`.
#[track_caller]
fn entry<'a>(entries: &'a [Value], manager: &str, operation: &str) -> &'a Value {
    let found: Vec<&Value> =
        entries.iter().filter(|e| e["manager"] == manager && e["operation"] == operation).collect();
    assert_eq!(found.len(), 1, "one {operation} entry of {manager:?} in {entries:#?}");
    found[0]
}

fn has_entry(entries: &[Value], manager: &str) -> bool {
    entries.iter().any(|e| e["manager"] == manager)
}

/// Whether the `fieldsV1` of `entry` has the path `path` (`["f:spec",
/// "f:replicas"]`).
fn owns(entry: &Value, path: &[&str]) -> bool {
    let mut at = &entry["fieldsV1"];
    for step in path {
        match at.get(*step) {
            Some(next) => at = next,
            None => return false,
        }
    }
    true
}

/// Checks the fixed members of a managedFields entry: manager, operation,
/// apiVersion, `FieldsV1`, an RFC 3339 time, no subresource.
#[track_caller]
fn assert_entry_header(entry: &Value, manager: &str, operation: &str, api_version: &str) {
    assert_eq!(entry["manager"], manager, "{entry:#}");
    assert_eq!(entry["operation"], operation, "{entry:#}");
    assert_eq!(entry["apiVersion"], api_version, "{entry:#}");
    assert_eq!(entry["fieldsType"], "FieldsV1", "{entry:#}");
    assert!(entry.get("subresource").is_none(), "{entry:#}");
    let time = entry["time"].as_str().unwrap_or_default();
    assert!(time.len() == 20 && time.ends_with('Z') && time.as_bytes()[10] == b'T', "{entry:#}");
}

/// A Deployment of three containers with env vars, volume mounts and two
/// volumes.
const APP: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: NAME
  labels:
    app: NAME
spec:
  replicas: 3
  selector:
    matchLabels:
      app: NAME
  template:
    metadata:
      labels:
        app: NAME
    spec:
      volumes:
      - name: data
        emptyDir: {}
      - name: config
        configMap:
          name: NAME-config
      containers:
      - name: web
        image: IMAGE
        env:
        - name: MODE
          value: production
        - name: LEVEL
          value: "2"
        volumeMounts:
        - name: data
          mountPath: /data
        - name: config
          mountPath: /etc/app
      - name: sidecar
        image: busybox:1.36
        command: [sh, -c, sleep 3600]
        env:
        - name: TARGET
          value: web
      - name: logger
        image: fluent/fluent-bit:3.0
        volumeMounts:
        - name: data
          mountPath: /logs
          readOnly: true
"#;

fn app(name: &str, image: &str) -> String {
    APP.replace("NAME", name).replace("IMAGE", image)
}

/// The `fieldsV1` of the applier of [`APP`]: every field the manifest sets,
/// keyed list items with their `.` member, the atomic selector and command
/// as leaves, no `metadata.name`.
fn app_fields() -> Value {
    let item = |fields: &[&str]| -> Value {
        let mut map = serde_json::Map::new();
        map.insert(".".into(), json!({}));
        for f in fields {
            map.insert(format!("f:{f}"), json!({}));
        }
        Value::Object(map)
    };
    json!({
        "f:metadata": {"f:labels": {"f:app": {}}},
        "f:spec": {
            "f:replicas": {},
            "f:selector": {},
            "f:template": {
                "f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {
                    "f:volumes": {
                        r#"k:{"name":"data"}"#: item(&["name", "emptyDir"]),
                        r#"k:{"name":"config"}"#: {".": {}, "f:name": {}, "f:configMap": {"f:name": {}}},
                    },
                    "f:containers": {
                        r#"k:{"name":"web"}"#: {
                            ".": {},
                            "f:name": {},
                            "f:image": {},
                            "f:env": {
                                r#"k:{"name":"MODE"}"#: item(&["name", "value"]),
                                r#"k:{"name":"LEVEL"}"#: item(&["name", "value"]),
                            },
                            "f:volumeMounts": {
                                r#"k:{"mountPath":"/data"}"#: item(&["name", "mountPath"]),
                                r#"k:{"mountPath":"/etc/app"}"#: item(&["name", "mountPath"]),
                            },
                        },
                        r#"k:{"name":"sidecar"}"#: {
                            ".": {},
                            "f:name": {},
                            "f:image": {},
                            "f:command": {},
                            "f:env": {r#"k:{"name":"TARGET"}"#: item(&["name", "value"])},
                        },
                        r#"k:{"name":"logger"}"#: {
                            ".": {},
                            "f:name": {},
                            "f:image": {},
                            "f:volumeMounts": {r#"k:{"mountPath":"/logs"}"#: item(&["name", "mountPath", "readOnly"])},
                        },
                    },
                },
            },
        },
    })
}

#[test]
fn apply_creates_and_updates_with_managed_fields() {
    let server = server();
    for k in both(&server) {
        let name = named("app", &k);
        let out = ssa(&k, &app(&name, "nginx:1.25"), &[]);
        assert_eq!(out, format!("deployment.apps/{name} serverside-applied\n"), "kubectl {}", k.version);

        let live = get_managed(&k, &["deploy", &name]);
        let managed = entries(&live);
        assert_eq!(managed.len(), 1, "kubectl {}: {managed:#?}", k.version);
        assert_entry_header(&managed[0], "kubectl", "Apply", "apps/v1");
        assert_eq!(managed[0]["fieldsV1"], app_fields(), "kubectl {}", k.version);
        let containers = &live["spec"]["template"]["spec"]["containers"];
        assert_eq!(containers.as_array().map(Vec::len), Some(3), "{live:#}");
        assert_eq!(containers[0]["image"], "nginx:1.25", "{live:#}");
        assert_eq!(
            containers[0]["env"],
            json!([{"name": "MODE", "value": "production"}, {"name": "LEVEL", "value": "2"}]),
            "{live:#}"
        );
        assert_eq!(live["spec"]["replicas"], 3, "{live:#}");
        assert_eq!(live["metadata"]["generation"], 1, "{live:#}");

        // The same manifest with another image: updated in place, still one entry.
        let out = ssa(&k, &app(&name, "nginx:1.26"), &[]);
        assert_eq!(out, format!("deployment.apps/{name} serverside-applied\n"), "kubectl {}", k.version);
        let live = get_managed(&k, &["deploy", &name]);
        assert_eq!(live["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:1.26", "{live:#}");
        assert_eq!(live["metadata"]["generation"], 2, "{live:#}");
        let managed = entries(&live);
        assert_eq!(managed.len(), 1, "kubectl {}: {managed:#?}", k.version);
        assert_entry_header(&managed[0], "kubectl", "Apply", "apps/v1");
        assert_eq!(managed[0]["fieldsV1"], app_fields(), "kubectl {}", k.version);

        // kubectl hides managedFields unless asked; the server sends them.
        let plain = get_json(&k, &["deploy", &name]);
        assert!(plain["metadata"].get("managedFields").is_none(), "{plain:#}");
        let raw = k.ok(&["get", "--raw", &format!("/apis/apps/v1/namespaces/default/deployments/{name}")]).unwrap();
        let raw: Value = serde_json::from_str(&raw).unwrap();
        assert_eq!(entries(&raw), entries(&live), "{raw:#}");
    }
}

/// What the manager `other` wants: only the replicas.
fn replicas_only(name: &str, replicas: u32) -> String {
    format!("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  replicas: {replicas}\n")
}

#[test]
fn conflict_between_appliers_then_force() {
    let server = server();
    for k in both(&server) {
        let name = named("contested", &k);
        ssa(&k, &app(&name, "nginx:1.25"), &[]);

        // Another manager wanting other replicas: upstream's message and kubectl's advice.
        let stderr = ssa_fails(&k, &replicas_only(&name, 5), &["--field-manager=other"]);
        assert_eq!(
            stderr,
            conflict_stderr(r#"Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas"#),
            "kubectl {}",
            k.version
        );
        let live = get_managed(&k, &["deploy", &name]);
        assert_eq!(live["spec"]["replicas"], 3, "{live:#}");
        assert!(!has_entry(&entries(&live), "other"), "{live:#}");

        // The same value is no conflict: both own it.
        let out = ssa(&k, &replicas_only(&name, 3), &["--field-manager=other"]);
        assert_eq!(out, format!("deployment.apps/{name} serverside-applied\n"));
        let managed = entries(&get_managed(&k, &["deploy", &name]));
        assert!(owns(entry(&managed, "kubectl", "Apply"), &["f:spec", "f:replicas"]), "{managed:#?}");
        assert_eq!(entry(&managed, "other", "Apply")["fieldsV1"], json!({"f:spec": {"f:replicas": {}}}));

        // --force-conflicts takes the field over.
        let out = ssa(&k, &replicas_only(&name, 5), &["--field-manager=other", "--force-conflicts"]);
        assert_eq!(out, format!("deployment.apps/{name} serverside-applied\n"), "kubectl {}", k.version);
        let live = get_managed(&k, &["deploy", &name]);
        assert_eq!(live["spec"]["replicas"], 5, "{live:#}");
        let managed = entries(&live);
        assert_eq!(managed.len(), 2, "{managed:#?}");
        let other = entry(&managed, "other", "Apply");
        assert_entry_header(other, "other", "Apply", "apps/v1");
        assert_eq!(other["fieldsV1"], json!({"f:spec": {"f:replicas": {}}}), "{other:#}");
        let kubectl = entry(&managed, "kubectl", "Apply");
        assert!(!owns(kubectl, &["f:spec", "f:replicas"]), "{kubectl:#}");
        assert!(owns(kubectl, &["f:spec", "f:template", "f:spec", "f:containers", r#"k:{"name":"web"}"#, "f:image"]));

        // Now the first applier is the one in conflict, named the same way.
        let stderr = ssa_fails(&k, &app(&name, "nginx:1.25"), &[]);
        assert_eq!(
            stderr,
            conflict_stderr(r#"Apply failed with 1 conflict: conflict with "other": .spec.replicas"#),
            "kubectl {}",
            k.version
        );
    }
}

/// A Deployment whose manager sets the labels and `web`'s env vars given.
fn labelled(name: &str, labels: &[(&str, &str)], env: &[(&str, &str)], full: bool) -> String {
    let mut text = format!("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n");
    if !labels.is_empty() {
        text.push_str("  labels:\n");
        for (key, value) in labels {
            text.push_str(&format!("    {key}: \"{value}\"\n"));
        }
    }
    text.push_str("spec:\n");
    if full {
        text.push_str(&format!(
            "  selector:\n    matchLabels:\n      app: {name}\n  template:\n    metadata:\n      labels:\n        \
             app: {name}\n"
        ));
    } else {
        text.push_str("  template:\n");
    }
    text.push_str("    spec:\n      containers:\n      - name: web\n");
    if full {
        text.push_str("        image: nginx:1.25\n");
    }
    if !env.is_empty() {
        text.push_str("        env:\n");
        for (key, value) in env {
            text.push_str(&format!("        - name: \"{key}\"\n          value: \"{value}\"\n"));
        }
    }
    text
}

fn labels_and_env(live: &Value) -> (Value, Value) {
    let env = live["spec"]["template"]["spec"]["containers"][0].get("env").cloned().unwrap_or(Value::Null);
    (live["metadata"].get("labels").cloned().unwrap_or(Value::Null), env)
}

#[test]
fn dropped_fields_are_removed_unless_co_owned() {
    let server = server();
    for k in both(&server) {
        let name = named("trim", &k);
        let alpha = ["--field-manager=alpha"];
        let beta = ["--field-manager=beta"];
        let all_labels = [("tier", "web"), ("team", "a"), ("stage", "dev")];
        let all_env = [("TIER", "web"), ("TEAM", "a"), ("STAGE", "dev")];
        ssa(&k, &labelled(&name, &all_labels, &all_env, true), &alpha);

        // alpha stops setting stage: removed, nobody else owns it.
        ssa(&k, &labelled(&name, &all_labels[..2], &all_env[..2], true), &alpha);
        let (labels, env) = labels_and_env(&get_json(&k, &["deploy", &name]));
        assert_eq!(labels, json!({"tier": "web", "team": "a"}), "kubectl {}", k.version);
        assert_eq!(
            env,
            json!([{"name": "TIER", "value": "web"}, {"name": "TEAM", "value": "a"}]),
            "kubectl {}",
            k.version
        );

        // beta applies team and TEAM with the same values: co-owned.
        ssa(&k, &labelled(&name, &[("team", "a")], &[("TEAM", "a")], false), &beta);
        let managed = entries(&get_managed(&k, &["deploy", &name]));
        let env_team =
            ["f:spec", "f:template", "f:spec", "f:containers", r#"k:{"name":"web"}"#, "f:env", r#"k:{"name":"TEAM"}"#];
        for manager in ["alpha", "beta"] {
            let e = entry(&managed, manager, "Apply");
            assert!(owns(e, &["f:metadata", "f:labels", "f:team"]) && owns(e, &env_team), "{manager}: {e:#}");
        }

        // alpha drops tier, TIER, team and TEAM: tier and TIER go, team and TEAM stay (beta's).
        ssa(&k, &labelled(&name, &[], &[], true), &alpha);
        let live = get_managed(&k, &["deploy", &name]);
        let (labels, env) = labels_and_env(&live);
        assert_eq!(labels, json!({"team": "a"}), "kubectl {}", k.version);
        assert_eq!(env, json!([{"name": "TEAM", "value": "a"}]), "kubectl {}", k.version);
        let managed = entries(&live);
        let alpha_entry = entry(&managed, "alpha", "Apply");
        assert!(!owns(alpha_entry, &["f:metadata", "f:labels"]), "{alpha_entry:#}");
        assert!(!owns(alpha_entry, &env_team), "{alpha_entry:#}");
        assert!(owns(entry(&managed, "beta", "Apply"), &["f:metadata", "f:labels", "f:team"]));

        // beta lets go too: nothing left of them.
        ssa(&k, &format!("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n"), &beta);
        let live = get_managed(&k, &["deploy", &name]);
        let (labels, env) = labels_and_env(&live);
        assert!(labels.is_null() || labels == json!({}), "kubectl {}: {labels}", k.version);
        assert!(env.is_null() || env == json!([]), "kubectl {}: {env}", k.version);
        assert!(!has_entry(&entries(&live), "beta"), "{live:#}");
        assert_eq!(live["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:1.25", "{live:#}");
    }
}

#[test]
fn conflict_with_the_scale_subresource() {
    let server = server();
    for k in both(&server) {
        let name = named("scaled", &k);
        ssa(&k, &app(&name, "nginx:1.25"), &[]);
        let out = k.ok(&["scale", "deployment", &name, "--replicas=5"]).unwrap();
        assert_eq!(out, format!("deployment.apps/{name} scaled\n"), "kubectl {}", k.version);

        // kubectl scale sends no fieldManager: the server names it after the
        // user agent; the replicas move from the applier to it.
        let live = get_managed(&k, &["deploy", &name]);
        assert_eq!(live["spec"]["replicas"], 5, "{live:#}");
        let managed = entries(&live);
        let scale: Vec<&Value> = managed.iter().filter(|e| e["subresource"] == "scale").collect();
        assert_eq!(scale.len(), 1, "{managed:#?}");
        assert_eq!(scale[0]["manager"], "kubectl", "{managed:#?}");
        assert_eq!(scale[0]["operation"], "Update", "{managed:#?}");
        assert_eq!(scale[0]["apiVersion"], "apps/v1", "{managed:#?}");
        assert_eq!(scale[0]["fieldsV1"], json!({"f:spec": {"f:replicas": {}}}), "{managed:#?}");
        assert!(!owns(entry(&managed, "kubectl", "Apply"), &["f:spec", "f:replicas"]), "{managed:#?}");

        // Applying replicas 3 again conflicts with that Update manager.
        let stderr = ssa_fails(&k, &app(&name, "nginx:1.25"), &[]);
        assert_eq!(
            stderr,
            conflict_stderr(
                r#"Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" using apps/v1: .spec.replicas"#
            ),
            "kubectl {}",
            k.version
        );

        // Forced: the applier owns the replicas again, the scale entry is gone.
        ssa(&k, &app(&name, "nginx:1.25"), &["--force-conflicts"]);
        let live = get_managed(&k, &["deploy", &name]);
        assert_eq!(live["spec"]["replicas"], 3, "{live:#}");
        let managed = entries(&live);
        assert!(managed.iter().all(|e| e.get("subresource").is_none()), "{managed:#?}");
        assert_eq!(entry(&managed, "kubectl", "Apply")["fieldsV1"], app_fields());
    }
}

/// A Deployment for client-side apply with the label `tier`.
fn legacy(name: &str, image: &str, tier: bool) -> String {
    let tier = if tier { "    tier: frontend\n" } else { "" };
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  labels:\n    app: {name}\n{tier}spec:\n  \
         replicas: 2\n  selector:\n    matchLabels:\n      app: {name}\n  template:\n    metadata:\n      labels:\n        \
         app: {name}\n    spec:\n      containers:\n      - name: web\n        image: {image}\n"
    )
}

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

#[test]
fn migration_from_client_side_apply() {
    let server = server();
    for k in both(&server) {
        // The same manifest, first client-side then server-side.
        let name = named("legacy", &k);
        let manifest = legacy(&name, "nginx:1.25", true);
        let out = k.ok_with_input(&["apply", "-f", "-"], Some(&manifest)).unwrap();
        assert_eq!(out, format!("deployment.apps/{name} created\n"));
        let managed = entries(&get_managed(&k, &["deploy", &name]));
        assert_entry_header(
            entry(&managed, "kubectl-client-side-apply", "Update"),
            "kubectl-client-side-apply",
            "Update",
            "apps/v1",
        );
        let out = k.run(&["apply", "--server-side", "-f", "-"], Some(&manifest)).unwrap();
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "kubectl {}: {stderr}", k.version);
        assert_eq!(stdout, format!("deployment.apps/{name} serverside-applied\n"));
        assert_eq!(stderr, "", "kubectl {}", k.version);

        let live = get_managed(&k, &["deploy", &name]);
        let managed = entries(&live);
        assert!(!has_entry(&managed, "kubectl-client-side-apply"), "kubectl {}: {managed:#?}", k.version);
        let kubectl = entry(&managed, "kubectl", "Apply");
        assert_entry_header(kubectl, "kubectl", "Apply", "apps/v1");
        for path in [
            &["f:spec", "f:replicas"][..],
            &["f:metadata", "f:labels", "f:tier"],
            &["f:spec", "f:template", "f:spec", "f:containers", r#"k:{"name":"web"}"#, "f:image"],
        ] {
            assert!(owns(kubectl, path), "kubectl {}: {path:?} in {kubectl:#}", k.version);
        }
        // The annotation is kept, owned by an applier of its own.
        let keeper = entry(&managed, "kubectl-last-applied", "Apply");
        assert_eq!(keeper["fieldsV1"], json!({"f:metadata": {"f:annotations": {format!("f:{LAST_APPLIED}"): {}}}}));
        assert!(live["metadata"]["annotations"][LAST_APPLIED].is_string(), "{live:#}");
        assert_eq!(managed.len(), 2, "kubectl {}: {managed:#?}", k.version);

        // A changed manifest straight after client-side apply: the server lets
        // kubectl take what its last-applied configuration shows, and what the
        // manifest dropped goes once the fields are migrated.
        let name = named("moved", &k);
        k.ok_with_input(&["apply", "-f", "-"], Some(&legacy(&name, "nginx:1.25", true))).unwrap();
        let out = k.run(&["apply", "--server-side", "-f", "-"], Some(&legacy(&name, "nginx:1.26", false))).unwrap();
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "kubectl {}: {stderr}", k.version);
        assert_eq!(stdout, format!("deployment.apps/{name} serverside-applied\n"));
        assert_eq!(stderr, "", "kubectl {}", k.version);
        let live = get_managed(&k, &["deploy", &name]);
        assert_eq!(live["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:1.26", "{live:#}");
        assert!(live["metadata"]["labels"].get("tier").is_none(), "{live:#}");
        let managed = entries(&live);
        assert!(!has_entry(&managed, "kubectl-client-side-apply"), "kubectl {}: {managed:#?}", k.version);
        let kubectl = entry(&managed, "kubectl", "Apply");
        assert!(!owns(kubectl, &["f:metadata", "f:labels", "f:tier"]), "{kubectl:#}");
        assert!(owns(kubectl, &["f:spec", "f:replicas"]), "{kubectl:#}");
        // The server keeps the annotation in step with what kubectl applies.
        let last: Value =
            serde_json::from_str(live["metadata"]["annotations"][LAST_APPLIED].as_str().unwrap_or("null")).unwrap();
        assert_eq!(last["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:1.26", "{last:#}");
        assert!(last["metadata"]["labels"].get("tier").is_none(), "{last:#}");
    }
}

#[test]
fn every_write_records_its_manager() {
    let server = server();
    for k in both(&server) {
        let name = named("writes", &k);
        let out = k.ok(&["create", "deployment", &name, "--image=nginx:1.25"]).unwrap();
        assert_eq!(out, format!("deployment.apps/{name} created\n"));
        let managed = entries(&get_managed(&k, &["deploy", &name]));
        assert_eq!(managed.len(), 1, "kubectl {}: {managed:#?}", k.version);
        let create = entry(&managed, "kubectl-create", "Update");
        assert_entry_header(create, "kubectl-create", "Update", "apps/v1");
        for path in [
            &["f:metadata", "f:labels", "f:app"][..],
            &["f:spec", "f:replicas"],
            &["f:spec", "f:template", "f:spec", "f:containers", r#"k:{"name":"nginx"}"#, "f:image"],
        ] {
            assert!(owns(create, path), "kubectl {}: {path:?} in {create:#}", k.version);
        }

        k.ok(&["label", "deployment", &name, "team=a"]).unwrap();
        k.ok(&["annotate", "deployment", &name, "note=x"]).unwrap();
        k.ok(&["patch", "deployment", &name, "-p", r#"{"spec":{"replicas":2}}"#]).unwrap();
        let live = get_managed(&k, &["deploy", &name]);
        assert_eq!(live["spec"]["replicas"], 2, "{live:#}");
        let managed = entries(&live);
        assert_eq!(managed.len(), 4, "kubectl {}: {managed:#?}", k.version);
        for e in &managed {
            let manager = e["manager"].as_str().unwrap_or_default();
            assert_entry_header(e, manager, "Update", "apps/v1");
        }
        let label = entry(&managed, "kubectl-label", "Update");
        assert_eq!(label["fieldsV1"], json!({"f:metadata": {"f:labels": {"f:team": {}}}}), "{label:#}");
        let annotate = entry(&managed, "kubectl-annotate", "Update");
        assert_eq!(annotate["fieldsV1"], json!({"f:metadata": {"f:annotations": {".": {}, "f:note": {}}}}));
        let patch = entry(&managed, "kubectl-patch", "Update");
        assert_eq!(patch["fieldsV1"], json!({"f:spec": {"f:replicas": {}}}), "{patch:#}");
        // An update takes the fields it changes from their previous owner.
        let create = entry(&managed, "kubectl-create", "Update");
        assert!(!owns(create, &["f:spec", "f:replicas"]), "{create:#}");
        assert!(owns(create, &["f:metadata", "f:labels", "f:app"]), "{create:#}");
    }
}

const ROUTES_CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: routes.ssa.example.com
spec:
  group: ssa.example.com
  scope: Namespaced
  names: {plural: routes, singular: route, kind: Route}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              owner: {type: string}
              backends:
                type: array
                x-kubernetes-list-type: map
                x-kubernetes-list-map-keys: [name]
                items:
                  type: object
                  required: [name]
                  properties:
                    name: {type: string}
                    weight: {type: integer}
              hosts:
                type: array
                x-kubernetes-list-type: set
                items: {type: string}
"#;

/// A Route with the owner (if any), backends `(name, weight)` and hosts given.
fn route(name: &str, owner: Option<&str>, backends: &[(&str, i64)], hosts: &[&str]) -> String {
    let mut text = format!("apiVersion: ssa.example.com/v1\nkind: Route\nmetadata:\n  name: {name}\nspec:\n");
    if let Some(owner) = owner {
        text.push_str(&format!("  owner: {owner}\n"));
    }
    if !backends.is_empty() {
        text.push_str("  backends:\n");
        for (backend, weight) in backends {
            text.push_str(&format!("  - name: {backend}\n    weight: {weight}\n"));
        }
    }
    if !hosts.is_empty() {
        text.push_str("  hosts:\n");
        for host in hosts {
            text.push_str(&format!("  - {host}\n"));
        }
    }
    text
}

/// `spec.backends` as sorted `(name, weight)` and `spec.hosts` sorted.
fn backends_and_hosts(live: &Value) -> (Vec<(String, i64)>, Vec<String>) {
    let mut backends: Vec<(String, i64)> = live["spec"]["backends"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|b| (b["name"].as_str().unwrap_or("").to_string(), b["weight"].as_i64().unwrap_or(-1)))
                .collect()
        })
        .unwrap_or_default();
    backends.sort();
    let mut hosts: Vec<String> = live["spec"]["hosts"]
        .as_array()
        .map(|items| items.iter().map(|h| h.as_str().unwrap_or("").to_string()).collect())
        .unwrap_or_default();
    hosts.sort();
    (backends, hosts)
}

#[test]
fn custom_resource_lists_merged_per_list_type() {
    let server = server();
    let [k32, k37] = both(&server);
    k32.ok_with_input(&["create", "-f", "-", "--validate=false"], Some(ROUTES_CRD)).unwrap();
    let out =
        k32.ok(&["wait", "--for", "condition=established", "crd/routes.ssa.example.com", "--timeout=30s"]).unwrap();
    assert!(out.contains("condition met"), "{out}");

    for k in [k32, k37] {
        let name = named("route", &k);
        let alpha = ["--field-manager=alpha"];
        let beta = ["--field-manager=beta"];
        let out = ssa(&k, &route(&name, Some("team-a"), &[("a", 1)], &["a.example.com"]), &alpha);
        assert_eq!(out, format!("route.ssa.example.com/{name} serverside-applied\n"), "kubectl {}", k.version);
        ssa(&k, &route(&name, None, &[("b", 2)], &["b.example.com"]), &beta);

        // Both managers' items are kept, each owned by its applier.
        let live = get_managed(&k, &["route", &name]);
        let (backends, hosts) = backends_and_hosts(&live);
        assert_eq!(backends, [("a".to_string(), 1), ("b".to_string(), 2)], "kubectl {}: {live:#}", k.version);
        assert_eq!(hosts, ["a.example.com", "b.example.com"], "kubectl {}: {live:#}", k.version);
        assert_eq!(live["spec"]["owner"], "team-a", "{live:#}");
        let managed = entries(&live);
        assert_eq!(managed.len(), 2, "{managed:#?}");
        let alpha_entry = entry(&managed, "alpha", "Apply");
        assert_entry_header(alpha_entry, "alpha", "Apply", "ssa.example.com/v1");
        assert_eq!(
            alpha_entry["fieldsV1"],
            json!({"f:spec": {
                "f:owner": {},
                "f:backends": {r#"k:{"name":"a"}"#: {".": {}, "f:name": {}, "f:weight": {}}},
                "f:hosts": {r#"v:"a.example.com""#: {}},
            }}),
            "kubectl {}",
            k.version
        );
        let beta_entry = entry(&managed, "beta", "Apply");
        assert_eq!(
            beta_entry["fieldsV1"],
            json!({"f:spec": {
                "f:backends": {r#"k:{"name":"b"}"#: {".": {}, "f:name": {}, "f:weight": {}}},
                "f:hosts": {r#"v:"b.example.com""#: {}},
            }}),
            "kubectl {}",
            k.version
        );

        // beta wanting another weight for alpha's backend: a conflict on that item.
        let stderr = ssa_fails(&k, &route(&name, None, &[("b", 2), ("a", 9)], &["b.example.com"]), &beta);
        assert_eq!(
            stderr,
            conflict_stderr(r#"Apply failed with 1 conflict: conflict with "alpha": .spec.backends[name="a"].weight"#),
            "kubectl {}",
            k.version
        );

        // alpha dropping its items removes them and leaves beta's.
        ssa(&k, &route(&name, Some("team-a"), &[], &[]), &alpha);
        let live = get_managed(&k, &["route", &name]);
        let (backends, hosts) = backends_and_hosts(&live);
        assert_eq!(backends, [("b".to_string(), 2)], "kubectl {}: {live:#}", k.version);
        assert_eq!(hosts, ["b.example.com"], "kubectl {}: {live:#}", k.version);
        let managed = entries(&live);
        assert_eq!(entry(&managed, "alpha", "Apply")["fieldsV1"], json!({"f:spec": {"f:owner": {}}}));
    }
}

/// Status and JSON body of one request sent with kube-rs (no retries).
fn send(server: &KubeplexServer, method: http::Method, path: &str, content_type: &str, body: &str) -> (u16, Value) {
    let reply = common::send_blocking(server, method, path, content_type, body);
    (reply.status, reply.body)
}

const APPLY: &str = "application/apply-patch+yaml";
const RAW: &str = "/apis/apps/v1/namespaces/default/deployments/raw";

fn invalid_patch_options(field: &str, reason: &str, message: &str) -> Value {
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": format!("PatchOptions.meta.k8s.io \"\" is invalid: {field}: {message}"),
        "reason": "Invalid",
        "details": {
            "group": "meta.k8s.io",
            "kind": "PatchOptions",
            "causes": [{"reason": reason, "message": message, "field": field}],
        },
        "code": 422,
    })
}

#[test]
fn raw_apply_requests() {
    let server = server();
    let yaml = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: raw\nspec:\n  replicas: 2\n  selector:\n    \
                matchLabels:\n      app: raw\n  template:\n    metadata:\n      labels:\n        app: raw\n    spec:\n      \
                containers:\n      - name: web\n        image: nginx:1.25\n";

    // No fieldManager: refused before anything else, upstream's Status.
    let (status, body) = send(&server, http::Method::PATCH, RAW, APPLY, yaml);
    assert_eq!(status, 422, "{body:#}");
    assert_eq!(
        body,
        invalid_patch_options("fieldManager", "FieldValueRequired", "Required value: is required for apply patch")
    );
    let too_long = format!("{RAW}?fieldManager={}", "m".repeat(129));
    let (status, body) = send(&server, http::Method::PATCH, &too_long, APPLY, yaml);
    assert_eq!(status, 422, "{body:#}");
    assert_eq!(
        body,
        invalid_patch_options("fieldManager", "FieldValueTooLong", "Too long: may not be more than 128 bytes")
    );

    // A YAML body creates the object (201), then updates it (200).
    let (status, body) = send(&server, http::Method::PATCH, &format!("{RAW}?fieldManager=raw"), APPLY, yaml);
    assert_eq!(status, 201, "{body:#}");
    assert_eq!((body["kind"].as_str(), body["spec"]["replicas"].as_i64()), (Some("Deployment"), Some(2)), "{body:#}");
    let managed = body["metadata"]["managedFields"].as_array().cloned().unwrap_or_default();
    assert_eq!(managed.len(), 1, "{body:#}");
    assert_entry_header(&managed[0], "raw", "Apply", "apps/v1");
    assert!(owns(&managed[0], &["f:spec", "f:replicas"]), "{body:#}");
    let (status, body) = send(
        &server,
        http::Method::PATCH,
        &format!("{RAW}?fieldManager=raw"),
        APPLY,
        &yaml.replace("nginx:1.25", "nginx:1.26"),
    );
    assert_eq!(status, 200, "{body:#}");
    assert_eq!(body["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:1.26", "{body:#}");

    // A JSON body from another manager: 409 with the conflict as a cause.
    let json_body = r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"raw"},"spec":{"replicas":4}}"#;
    let (status, body) = send(&server, http::Method::PATCH, &format!("{RAW}?fieldManager=json"), APPLY, json_body);
    assert_eq!(status, 409, "{body:#}");
    assert_eq!(
        body,
        json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": "Apply failed with 1 conflict: conflict with \"raw\": .spec.replicas",
            "reason": "Conflict",
            "details": {"causes": [{
                "reason": "FieldManagerConflict",
                "message": "conflict with \"raw\"",
                "field": ".spec.replicas",
            }]},
            "code": 409,
        })
    );
    let (status, body) =
        send(&server, http::Method::PATCH, &format!("{RAW}?fieldManager=json&force=true"), APPLY, json_body);
    assert_eq!(status, 200, "{body:#}");
    assert_eq!(body["spec"]["replicas"], 4, "{body:#}");

    // force is for apply patches only.
    let merge = r#"{"spec":{"replicas":1}}"#;
    let uri = format!("{RAW}?fieldManager=merger&force=true");
    let (status, body) = send(&server, http::Method::PATCH, &uri, "application/merge-patch+json", merge);
    assert_eq!(status, 422, "{body:#}");
    assert_eq!(
        body,
        invalid_patch_options("force", "FieldValueForbidden", "Forbidden: may not be specified for non-apply patch")
    );
    let (status, body) = send(
        &server,
        http::Method::PATCH,
        &format!("{RAW}?fieldManager=merger"),
        "application/merge-patch+json",
        merge,
    );
    assert_eq!(status, 200, "{body:#}");
    let managed = body["metadata"]["managedFields"].as_array().cloned().unwrap_or_default();
    let merger = entry(&managed, "merger", "Update");
    assert_eq!(merger["fieldsV1"], json!({"f:spec": {"f:replicas": {}}}), "{body:#}");
    // It was all the other applier owned: its entry is gone.
    assert!(!has_entry(&managed, "json"), "{body:#}");
}

/// The `status` subresource applied by its own manager (as a controller
/// does), the status in a main-resource apply ignored, and a configuration
/// with a field the schema does not declare refused with upstream's 500.
#[test]
fn status_subresource_and_undeclared_fields() {
    let server = server();
    for k in both(&server) {
        let name = named("st", &k);
        ssa(&k, &app(&name, "nginx:1.25"), &[]);
        let status = format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nstatus:\n  replicas: 7\n  observedGeneration: 1\n"
        );
        ssa(&k, &status, &["--subresource=status", "--field-manager=ctl"]);
        let live = get_managed(&k, &["deploy", &name]);
        assert_eq!(live["status"]["replicas"], 7, "{live:#}");
        let all = live["metadata"]["managedFields"].as_array().cloned().unwrap_or_default();
        let ctl = entry(&all, "ctl", "Apply");
        assert_eq!(ctl["subresource"], "status", "{ctl:#}");
        assert_eq!(ctl["fieldsV1"], json!({"f:status": {"f:observedGeneration": {}, "f:replicas": {}}}));
        // Through the object, the status is neither written nor owned.
        let with_status = format!("{}status:\n  replicas: 1\n", app(&name, "nginx:1.25"));
        ssa(&k, &with_status, &[]);
        let live = get_managed(&k, &["deploy", &name]);
        assert_eq!(live["status"]["replicas"], 7, "{live:#}");
        assert!(!owns(entry(&entries(&live), "kubectl", "Apply"), &["f:status"]), "{live:#}");

        let bogus = format!("{}  bogus: 1\n", replicas_only(&name, 3));
        let err = ssa_fails(&k, &bogus, &["--field-manager=other"]);
        assert_eq!(
            err,
            format!(
                "Error from server: failed to create typed patch object (default/{name}; apps/v1, Kind=Deployment): \
                 .spec.bogus: field not declared in schema\n"
            ),
            "kubectl {}",
            k.version
        );
    }
}
