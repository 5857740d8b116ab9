//! Client-side apply and its companions end to end with real kubectl 1.32 and
//! 1.37, validation on (k8s-api.md §5.7, §5.8, §8): `apply -f` creating,
//! configuring and pruning what left the manifest (a label, an env var, a
//! container port, a finalizer, a container, `retainKeys` of the strategy and
//! a volume source) through kubectl's three-way strategic merge patches, then
//! `unchanged`; `apply -f DIR` of mixed kinds; `diff` (server-side dry-run
//! patches, exit code 1 on a difference); `edit` with a scripted `EDITOR`;
//! `replace -f`; `create -f` of an unknown field refused with upstream's
//! text; `explain` of a nested field.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use kubeplex_testing::{Kubectl, KubeplexServer};
use serde_json::Value;

fn server() -> KubeplexServer {
    KubeplexServer::start(env!("CARGO_BIN_EXE_kubeplex")).expect("start kubeplex server")
}

fn both(server: &KubeplexServer) -> [Kubectl; 2] {
    [Kubectl::v1_32(server.kubeconfig()).unwrap(), Kubectl::v1_37(server.kubeconfig()).unwrap()]
}

/// The Deployment `name`; `full` adds the label `tier`, the env var `B` and
/// the container port 443 that a later manifest drops.
fn deployment(name: &str, replicas: u32, image: &str, full: bool) -> String {
    let (tier, env_b, port_443) = if full {
        ("    tier: frontend\n", "        - {name: B, value: \"2\"}\n", "        - containerPort: 443\n")
    } else {
        ("", "", "")
    };
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  labels:\n    app: {name}\n{tier}\
         spec:\n  replicas: {replicas}\n  selector:\n    matchLabels: {{app: {name}}}\n  template:\n    metadata:\n      \
         labels: {{app: {name}}}\n    spec:\n      containers:\n      - name: web\n        image: {image}\n        \
         env:\n        - {{name: A, value: \"1\"}}\n{env_b}        ports:\n        - containerPort: 80\n{port_443}"
    )
}

fn write(dir: &Path, file: &str, text: &str) -> String {
    let path = dir.join(file);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

fn get_json(k: &Kubectl, args: &[&str]) -> Value {
    let mut all = vec!["get", "-o", "json"];
    all.extend_from_slice(args);
    serde_json::from_str(&k.ok(&all).unwrap()).unwrap()
}

/// Runs `k` with `args`, both streams as text, asserting the exit code.
fn run(k: &Kubectl, args: &[&str], code: i32) -> (String, String) {
    let out = k.run(args, None).unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(code), "kubectl {} {args:?}:\n{stdout}{stderr}", k.version);
    (stdout, stderr)
}

fn texts(out: &Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// `kubectl edit` with `EDITOR` set to `editor` (the helper cannot set the
/// environment, so the binary is found the way it finds it).
fn edit(k: &Kubectl, kubeconfig: &Path, cache: &Path, editor: &str, args: &[&str]) -> Output {
    let bin = match k.version {
        "1.32" => "kubectl".to_string(),
        _ => std::env::var("KUBECTL_1_37").expect("$KUBECTL_1_37"),
    };
    Command::new(bin)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .arg("--cache-dir")
        .arg(cache)
        .arg("edit")
        .args(args)
        .env("EDITOR", editor)
        .env_remove("KUBE_EDITOR")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn apply_diff_edit_replace_create_explain() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let editor = write(dir.path(), "editor.sh", "#!/bin/sh\nsed -i 's/replicas: 2/replicas: 4/' \"$1\"\n");
    std::fs::set_permissions(&editor, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();

    for k in both(&server) {
        let v = k.version.replace('.', "-");
        let name = format!("web-{v}");
        let file = |tag: &str, text: &str| write(dir.path(), &format!("{name}-{tag}.yaml"), text);
        let created = file("created", &deployment(&name, 1, "nginx:1.25", true));
        let configured = file("configured", &deployment(&name, 2, "nginx:1.25", true));
        let pruned = file("pruned", &deployment(&name, 2, "nginx:1.25", false));
        let changed = file("changed", &deployment(&name, 2, "nginx:1.26", false));

        // Created, configured, pruned, then unchanged; never a warning.
        for (manifest, verb) in
            [(&created, "created"), (&configured, "configured"), (&pruned, "configured"), (&pruned, "unchanged")]
        {
            let (stdout, stderr) = run(&k, &["apply", "-f", manifest], 0);
            assert_eq!(stdout, format!("deployment.apps/{name} {verb}\n"), "kubectl {}: {stderr}", k.version);
            assert!(stderr.is_empty(), "kubectl {}: {stderr}", k.version);
        }
        let live = get_json(&k, &["deploy", &name]);
        assert_eq!(live["metadata"]["labels"], serde_json::json!({"app": name}), "{live}");
        assert_eq!(live["spec"]["replicas"], 2, "{live}");
        let container = &live["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(container["env"], serde_json::json!([{"name": "A", "value": "1"}]), "{live}");
        assert_eq!(container["ports"], serde_json::json!([{"containerPort": 80, "protocol": "TCP"}]), "{live}");
        let last_applied = live["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
            .as_str()
            .unwrap_or_default();
        assert!(last_applied.ends_with('\n'), "{last_applied:?}");
        let last_applied: Value = serde_json::from_str(last_applied).unwrap();
        assert!(last_applied["metadata"]["labels"].get("tier").is_none(), "{last_applied}");

        // diff: the changed image, exit code 1; nothing and 0 when equal.
        let (stdout, stderr) = run(&k, &["diff", "-f", &changed], 1);
        assert!(stderr.is_empty(), "kubectl {}: {stderr}", k.version);
        assert!(stdout.contains("\n-        image: nginx:1.25\n"), "kubectl {}: {stdout}", k.version);
        assert!(stdout.contains("\n+        image: nginx:1.26\n"), "kubectl {}: {stdout}", k.version);
        let (stdout, _) = run(&k, &["diff", "-f", &pruned], 0);
        assert_eq!(stdout, "", "kubectl {}", k.version);
        let live = get_json(&k, &["deploy", &name]);
        assert_eq!(live["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:1.25", "diff is a dry run");

        // edit: the script turns replicas 2 into 4.
        let out = edit(&k, &server.kubeconfig(), &dir.path().join("cache"), &editor, &["deploy", &name]);
        let (stdout, stderr) = texts(&out);
        assert!(out.status.success(), "kubectl {} edit: {stderr}", k.version);
        assert_eq!(stdout, format!("deployment.apps/{name} edited\n"), "kubectl {}: {stderr}", k.version);
        assert_eq!(get_json(&k, &["deploy", &name])["spec"]["replicas"], 4);

        // replace: the manifest as is (PUT), which drops the annotation.
        let (stdout, _) = run(&k, &["replace", "-f", &changed], 0);
        assert_eq!(stdout, format!("deployment.apps/{name} replaced\n"));
        let live = get_json(&k, &["deploy", &name]);
        assert_eq!(live["spec"]["replicas"], 2, "{live}");
        assert_eq!(live["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:1.26", "{live}");
        assert!(
            live["metadata"]
                .get("annotations")
                .is_none_or(|a| a.get("kubectl.kubernetes.io/last-applied-configuration").is_none()),
            "{live}"
        );

        // create -f with an unknown field: refused by the server, upstream's text.
        let bad = file("bad", &deployment(&format!("bad-{v}"), 1, "nginx", false).replace("replicas:", "replicaz:"));
        let (_, stderr) = run(&k, &["create", "-f", &bad], 1);
        assert_eq!(
            stderr,
            format!(
                "Error from server (BadRequest): error when creating \"{bad}\": Deployment in version \"v1\" cannot \
                 be handled as a Deployment: strict decoding error: unknown field \"spec.replicaz\"\n"
            )
        );
        // ... and by apply, which patches an existing object.
        let bad = file("bad-patch", &deployment(&name, 2, "nginx:1.26", false).replace("replicas:", "replicaz:"));
        let (_, stderr) = run(&k, &["apply", "-f", &bad], 1);
        assert!(
            stderr.contains(r#"strict decoding error: unknown field "spec.replicaz""#),
            "kubectl {}: {stderr}",
            k.version
        );

        // explain walks the OpenAPI v3 document down to the containers.
        let (stdout, _) = run(&k, &["explain", "deployment.spec.template.spec.containers"], 0);
        assert!(
            stdout.starts_with(
                "GROUP:      apps\nKIND:       Deployment\nVERSION:    v1\n\nFIELD: containers <[]Container>\n"
            ),
            "kubectl {}: {stdout}",
            k.version
        );
        for field in ["  image\t<string>\n", "  name\t<string> -required-\n", "  ports\t<[]ContainerPort>\n"] {
            assert!(stdout.contains(field), "kubectl {}: {field:?} in {stdout}", k.version);
        }
    }
}

/// A Deployment whose later manifest drops a finalizer, a container, an
/// argument, a volume mount, the rolling-update parameters (`$retainKeys`)
/// and switches a volume's source.
const MULTI_BEFORE: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: NAME
  finalizers: [example.com/a, example.com/b]
spec:
  selector:
    matchLabels: {app: multi}
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 2}
  template:
    metadata:
      labels: {app: multi}
    spec:
      volumes:
      - name: v
        emptyDir: {}
      containers:
      - name: a
        image: nginx
        args: [one, two]
        volumeMounts:
        - {name: v, mountPath: /a}
        - {name: v, mountPath: /b}
      - name: b
        image: busybox
"#;

const MULTI_AFTER: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: NAME
  finalizers: [example.com/a]
spec:
  selector:
    matchLabels: {app: multi}
  strategy:
    type: Recreate
  template:
    metadata:
      labels: {app: multi}
    spec:
      volumes:
      - name: v
        configMap: {name: cm}
      containers:
      - name: a
        image: nginx
        args: [one]
        volumeMounts:
        - {name: v, mountPath: /b}
"#;

const CONFIG_MAP: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: \"1\"\n  b: \"2\"\n";

const SERVICE: &str = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: web}\n  \
                       ports:\n  - {name: http, port: 80, targetPort: 8080}\n";

const ROLE: &str = "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: reader\nrules:\n\
                    - apiGroups: [\"\"]\n  resources: [pods, configmaps]\n  verbs: [get, list, watch]\n";

const CRON_JOB: &str = "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: tick\nspec:\n  schedule: \"*/5 * * * *\"\n  \
                        jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: OnFailure\n          \
                        containers:\n          - {name: tick, image: busybox, command: [sh, -c, date]}\n";

#[test]
fn apply_directories_and_directives() {
    let server = server();
    let root = tempfile::tempdir().unwrap();
    for k in both(&server) {
        let v = k.version.replace('.', "-");

        // Removals that need $patch: delete, $deleteFromPrimitiveList and $retainKeys.
        let name = format!("multi-{v}");
        let before = write(root.path(), &format!("{name}-before.yaml"), &MULTI_BEFORE.replace("NAME", &name));
        let after = write(root.path(), &format!("{name}-after.yaml"), &MULTI_AFTER.replace("NAME", &name));
        let mut verbs = Vec::new();
        for manifest in [&before, &after, &after] {
            verbs.push(run(&k, &["apply", "-f", manifest], 0).0);
        }
        assert_eq!(
            verbs,
            ["created", "configured", "unchanged"].map(|verb| format!("deployment.apps/{name} {verb}\n"))
        );
        let live = get_json(&k, &["deploy", &name]);
        assert_eq!(live["metadata"]["finalizers"], serde_json::json!(["example.com/a"]), "{live}");
        assert_eq!(live["spec"]["strategy"], serde_json::json!({"type": "Recreate"}), "{live}");
        let pod = &live["spec"]["template"]["spec"];
        assert_eq!(pod["volumes"], serde_json::json!([{"name": "v", "configMap": {"name": "cm", "defaultMode": 420}}]));
        assert_eq!(pod["containers"].as_array().map(Vec::len), Some(1), "{live}");
        assert_eq!(pod["containers"][0]["args"], serde_json::json!(["one"]), "{live}");
        assert_eq!(pod["containers"][0]["volumeMounts"], serde_json::json!([{"name": "v", "mountPath": "/b"}]));
        k.ok(&["patch", "deploy", &name, "--type=json", "-p", r#"[{"op":"remove","path":"/metadata/finalizers"}]"#])
            .unwrap();

        // A directory of mixed kinds in a namespace of its own.
        let ns = format!("mixed-{v}");
        k.ok(&["create", "namespace", &ns]).unwrap();
        let dir = root.path().join(&ns);
        std::fs::create_dir(&dir).unwrap();
        let in_ns = |text: &str| text.replacen("metadata:\n", &format!("metadata:\n  namespace: {ns}\n"), 1);
        let files = [
            ("configmap.yaml", in_ns(CONFIG_MAP)),
            ("cronjob.yaml", in_ns(CRON_JOB)),
            ("deployment.yaml", in_ns(&deployment("web", 1, "nginx:1.25", true))),
            ("role.yaml", in_ns(ROLE)),
            ("service.yaml", in_ns(SERVICE)),
        ];
        for (file, text) in &files {
            write(&dir, file, text);
        }
        let dir = dir.to_str().unwrap();
        let objects = [
            "configmap/settings",
            "cronjob.batch/tick",
            "deployment.apps/web",
            "role.rbac.authorization.k8s.io/reader",
            "service/web",
        ];
        let expect = |verbs: [&str; 5]| -> String {
            objects.iter().zip(verbs).map(|(object, verb)| format!("{object} {verb}\n")).collect()
        };
        let (stdout, stderr) = run(&k, &["apply", "-f", dir], 0);
        assert_eq!(stdout, expect(["created"; 5]), "kubectl {}: {stderr}", k.version);
        assert!(stderr.is_empty(), "kubectl {}: {stderr}", k.version);
        assert_eq!(run(&k, &["apply", "-f", dir], 0).0, expect(["unchanged"; 5]));
        assert_eq!(run(&k, &["diff", "-f", dir], 0).0, "");

        // Change three of them: diff shows exactly those, apply configures them.
        write(Path::new(dir), "configmap.yaml", &files[0].1.replace("b: \"2\"", "b: \"3\""));
        write(Path::new(dir), "role.yaml", &files[3].1.replace("watch]", "watch, delete]"));
        write(Path::new(dir), "service.yaml", &files[4].1.replace("port: 80,", "port: 81,"));
        let (stdout, _) = run(&k, &["diff", "-f", dir], 1);
        let changed: Vec<&str> =
            stdout.lines().filter(|l| l.starts_with(['-', '+']) && !l.starts_with("---")).collect();
        assert!(changed.contains(&"-  b: \"2\"") && changed.contains(&"+  b: \"3\""), "{stdout}");
        assert!(changed.contains(&"+  - delete"), "{stdout}");
        assert!(changed.contains(&"-    port: 80") && changed.contains(&"+    port: 81"), "{stdout}");
        assert!(!stdout.contains("CronJob") && !stdout.contains("Deployment"), "{stdout}");
        let (stdout, _) = run(&k, &["apply", "-f", dir], 0);
        assert_eq!(stdout, expect(["configured", "unchanged", "unchanged", "configured", "configured"]));
        let service = get_json(&k, &["-n", &ns, "service", "web"]);
        assert_eq!(service["spec"]["ports"][0]["port"], 81, "{service}");
        assert_eq!(service["spec"]["ports"].as_array().map(Vec::len), Some(1), "{service}");
        let role = get_json(&k, &["-n", &ns, "role", "reader"]);
        assert_eq!(role["rules"][0]["verbs"], serde_json::json!(["get", "list", "watch", "delete"]), "{role}");
    }
}
