//! Captures the protobuf request bodies real kubectl sends, into `tests/fixtures/`. Ignored by default
//! (it needs kubectl and rewrites the fixtures); rerun with
//!
//! ```text
//! cargo test -p kubeplex-protobuf --test capture -- --ignored --nocapture
//! ```
//!
//! `KUBECTL` names the binary (default `kubectl`, the machine's dispatcher, which runs its bundled
//! kubectl 1.32 against a server reporting v1.36). A tiny HTTP/1.1 server on 127.0.0.1 answers
//! `/version`, legacy discovery (`/api`, `/apis`, resource lists) and every POST with a plausible object
//! (201), and records the POST bodies. For each command it writes `NAME.pb` (the body) and, when the
//! command supports it, `NAME.json` (what `--dry-run=client -o json` prints for the same command), and
//! finally `README.md` listing the commands, request lines and content types. `KUBEPLEX_CAPTURE_DIR`
//! writes them elsewhere, e.g. to try another kubectl (`KUBECTL=/usr/lib/google-cloud-sdk/bin/kubectl.1.33`).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::thread;

use serde_json::{Value, json};

/// One recorded request with a body.
#[derive(Debug, Clone)]
struct Recorded {
    method: String,
    target: String,
    content_type: String,
    user_agent: String,
    body: Vec<u8>,
}

/// What each command is: fixture name, kubectl arguments, whether `--dry-run=client -o json` works.
struct Case {
    name: &'static str,
    args: Vec<String>,
    dry_run: bool,
}

fn case(name: &'static str, args: &[&str], dry_run: bool) -> Case {
    Case { name, args: args.iter().map(|s| (*s).to_owned()).collect(), dry_run }
}

fn cases(binary_file: &Path) -> Vec<Case> {
    let from_file = format!("--from-file=blob={}", binary_file.display());
    vec![
        case("namespace", &["create", "namespace", "demo"], true),
        case("configmap", &["create", "configmap", "cm", "--from-literal=a=1"], true),
        Case {
            name: "configmap-binary",
            args: vec!["create".into(), "configmap".into(), "bin".into(), from_file, "--from-literal=text=".into()],
            dry_run: true,
        },
        case("secret", &["create", "secret", "generic", "s", "--from-literal=k=v"], true),
        case(
            "secret-docker-registry",
            &[
                "create",
                "secret",
                "docker-registry",
                "d",
                "--docker-username=u",
                "--docker-password=p",
                "--docker-server=registry.example",
            ],
            true,
        ),
        case("deployment-replicas-0", &["create", "deployment", "web", "--image=nginx", "--replicas=0"], true),
        case("deployment", &["create", "deployment", "web", "--image=nginx", "--replicas=3", "--port=80"], true),
        case("service-clusterip", &["create", "service", "clusterip", "svc", "--tcp=80:8080"], true),
        case(
            "service-nodeport",
            &["create", "service", "nodeport", "np", "--tcp=443:https", "--node-port=30443"],
            true,
        ),
        case("job", &["create", "job", "j", "--image=busybox", "--", "echo", "hi"], true),
        case("cronjob", &["create", "cronjob", "cj", "--image=busybox", "--schedule=*/5 * * * *", "--", "date"], true),
        case("serviceaccount", &["create", "serviceaccount", "sa"], true),
        case("role", &["create", "role", "r", "--verb=get", "--verb=list", "--resource=pods"], true),
        case("clusterrole", &["create", "clusterrole", "cr", "--verb=get", "--non-resource-url=/healthz"], true),
        case(
            "rolebinding",
            &["create", "rolebinding", "rb", "--role=r", "--user=u", "--serviceaccount=default:sa"],
            true,
        ),
        case("quota", &["create", "quota", "q", "--hard=cpu=1,memory=1Gi,pods=10", "--scopes=NotBestEffort"], true),
        case("pdb", &["create", "poddisruptionbudget", "p", "--selector=app=web", "--min-available=50%"], true),
        case("priorityclass", &["create", "priorityclass", "pc", "--value=1000", "--description=high"], true),
        case("ingress", &["create", "ingress", "ing", "--rule=foo.example/bar=svc1:8080", "--class=nginx"], true),
        case("token", &["create", "token", "sa", "--duration=10m", "--audience=api"], false),
        case("can-i", &["auth", "can-i", "create", "pods"], false),
        case("can-i-list", &["auth", "can-i", "--list"], false),
        case("whoami", &["auth", "whoami"], false),
    ]
}

/// Where the fixtures go: `tests/fixtures`, or `KUBEPLEX_CAPTURE_DIR` (to try another kubectl
/// without touching the committed fixtures).
fn fixtures_dir() -> PathBuf {
    match std::env::var_os("KUBEPLEX_CAPTURE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"),
    }
}

/// The bytes of the file `create configmap bin --from-file` reads: every byte value once.
fn binary_file_contents() -> Vec<u8> {
    (0..=255u8).collect()
}

#[test]
#[ignore = "needs kubectl; rewrites tests/fixtures"]
fn capture_kubectl_bodies() {
    let kubectl = std::env::var("KUBECTL").unwrap_or_else(|_| "kubectl".to_owned());
    let scratch = std::env::temp_dir().join(format!("kubeplex-protobuf-capture-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("scratch dir");
    let binary_file = scratch.join("blob.bin");
    std::fs::write(&binary_file, binary_file_contents()).expect("binary file");

    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let recorded: Arc<Mutex<Vec<Recorded>>> = Arc::default();
    {
        let recorded = Arc::clone(&recorded);
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let recorded = Arc::clone(&recorded);
                thread::spawn(move || serve(stream, &recorded));
            }
        });
    }
    let kubeconfig = scratch.join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: capture\n  cluster:\n    server: http://127.0.0.1:{port}\n\
             users:\n- name: capture\n  user: {{}}\ncontexts:\n- name: capture\n  context:\n    cluster: capture\n    user: capture\n    namespace: default\n\
             current-context: capture\n"
        ),
    )
    .expect("kubeconfig");

    let run = |args: &[String]| {
        let output = Command::new(&kubectl)
            .arg(format!("--kubeconfig={}", kubeconfig.display()))
            .arg(format!("--cache-dir={}", scratch.join("cache").display()))
            .args(args)
            .output()
            .expect("run kubectl");
        (output.status.success(), String::from_utf8_lossy(&output.stdout).into_owned(), output.stderr)
    };

    let dir = fixtures_dir();
    std::fs::create_dir_all(&dir).expect("fixtures dir");
    let mut readme = String::from(
        "# Protobuf bodies sent by real kubectl\n\n\
         Captured by `tests/capture.rs` (`cargo test -p kubeplex-protobuf --test capture -- --ignored --nocapture`)\n\
         with the machine's `kubectl` dispatcher running its bundled kubectl 1.32 against a capture server that\n\
         reports v1.36. `NAME.pb` is the request body; `NAME.json`, when present, is what the same command prints\n\
         with `--dry-run=client -o json`. `configmap-binary` reads a file holding the bytes 0 to 255 in order.\n\n\
         `tests/kubectl_bodies.rs` decodes each body and compares it with the `.json`, minus what Go's\n\
         `encoding/json` adds for zero values of non-pointer fields and the transcoder leaves out on purpose\n\
         (`creationTimestamp: null`, empty structs such as `status: {}`, `strategy: {}`, `resources: {}`,\n\
         non-`omitempty` zero numbers such as a PodDisruptionBudget's `status.expectedPods: 0`); each test lists\n\
         exactly what it leaves out. `token`, `can-i`, `can-i-list` and `whoami` have no `--dry-run`; their\n\
         tests spell out the expected object.\n\n\
         | fixture | command | request | Content-Type | User-Agent |\n|---|---|---|---|---|\n",
    );
    for case in cases(&binary_file) {
        recorded.lock().expect("lock").clear();
        let (ok, stdout, stderr) = run(&case.args);
        let posts: Vec<Recorded> =
            recorded.lock().expect("lock").iter().filter(|r| r.method == "POST").cloned().collect();
        println!("{}: ok={ok} {}", case.name, stdout.trim());
        assert!(ok, "kubectl {:?} failed: {}", case.args, String::from_utf8_lossy(&stderr));
        assert_eq!(posts.len(), 1, "{}: expected one POST, got {posts:?}", case.name);
        let post = &posts[0];
        std::fs::write(dir.join(format!("{}.pb", case.name)), &post.body).expect("write body");
        let command = case
            .args
            .iter()
            .map(|a| if a.contains(' ') || a.contains('*') { format!("'{a}'") } else { a.clone() })
            .collect::<Vec<_>>()
            .join(" ")
            .replace(&binary_file.display().to_string(), "blob.bin");
        readme.push_str(&format!(
            "| `{}` | `kubectl {}` | `{} {}` | `{}` | `{}` |\n",
            case.name, command, post.method, post.target, post.content_type, post.user_agent
        ));
        if case.dry_run {
            let mut args = case.args.clone();
            let split = args.iter().position(|a| a == "--").unwrap_or(args.len());
            args.splice(split..split, ["--dry-run=client".to_owned(), "-o".to_owned(), "json".to_owned()]);
            let (ok, stdout, stderr) = run(&args);
            assert!(ok, "kubectl {args:?} failed: {}", String::from_utf8_lossy(&stderr));
            std::fs::write(dir.join(format!("{}.json", case.name)), stdout).expect("write json");
        }
    }
    std::fs::write(dir.join("README.md"), readme).expect("write README");
    let _ = std::fs::remove_dir_all(&scratch);
}

/// Serves one connection (HTTP/1.1 keep-alive) until the client closes it.
fn serve(stream: TcpStream, recorded: &Mutex<Vec<Recorded>>) {
    let Ok(mut writer) = stream.try_clone() else { return };
    let mut reader = BufReader::new(stream);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = request_line.split_whitespace();
        let method = parts.next().unwrap_or("").to_owned();
        let target = parts.next().unwrap_or("").to_owned();
        let mut headers = BTreeMap::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
            }
        }
        let length: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let content_type = headers.get("content-type").cloned().unwrap_or_default();
        if method == "POST" || method == "PUT" {
            recorded.lock().expect("lock").push(Recorded {
                method: method.clone(),
                target: target.clone(),
                content_type,
                user_agent: headers.get("user-agent").cloned().unwrap_or_default(),
                body: body.clone(),
            });
        }
        let (status, reply) = respond(&method, &target, &body);
        let text = reply.to_string();
        let reason = match status {
            200 => "OK",
            201 => "Created",
            _ => "Not Found",
        };
        let head = format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            text.len()
        );
        if writer.write_all(head.as_bytes()).and_then(|()| writer.write_all(text.as_bytes())).is_err() {
            return;
        }
    }
}

/// A served resource: (name, kind, namespaced).
type Resource = (&'static str, &'static str, bool);

/// The group versions the capture server serves, with their resources.
fn discovery() -> Vec<(&'static str, Vec<Resource>)> {
    vec![
        (
            "v1",
            vec![
                ("namespaces", "Namespace", false),
                ("configmaps", "ConfigMap", true),
                ("secrets", "Secret", true),
                ("services", "Service", true),
                ("serviceaccounts", "ServiceAccount", true),
                ("serviceaccounts/token", "TokenRequest", true),
                ("pods", "Pod", true),
                ("resourcequotas", "ResourceQuota", true),
            ],
        ),
        ("apps/v1", vec![("deployments", "Deployment", true)]),
        ("batch/v1", vec![("jobs", "Job", true), ("cronjobs", "CronJob", true)]),
        (
            "rbac.authorization.k8s.io/v1",
            vec![
                ("roles", "Role", true),
                ("rolebindings", "RoleBinding", true),
                ("clusterroles", "ClusterRole", false),
                ("clusterrolebindings", "ClusterRoleBinding", false),
            ],
        ),
        (
            "authorization.k8s.io/v1",
            vec![
                ("selfsubjectaccessreviews", "SelfSubjectAccessReview", false),
                ("selfsubjectrulesreviews", "SelfSubjectRulesReview", false),
            ],
        ),
        ("authentication.k8s.io/v1", vec![("selfsubjectreviews", "SelfSubjectReview", false)]),
        ("policy/v1", vec![("poddisruptionbudgets", "PodDisruptionBudget", true)]),
        ("scheduling.k8s.io/v1", vec![("priorityclasses", "PriorityClass", false)]),
        ("networking.k8s.io/v1", vec![("ingresses", "Ingress", true)]),
    ]
}

fn respond(method: &str, target: &str, body: &[u8]) -> (u16, Value) {
    let path = target.split('?').next().unwrap_or("");
    if method == "POST" {
        return (201, created(body));
    }
    let groups = discovery();
    match path {
        "/version" => (200, json!({"major": "1", "minor": "36", "gitVersion": "v1.36.0", "platform": "linux/amd64"})),
        "/api" => (200, json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []})),
        "/apis" => {
            let list: Vec<Value> = groups
                .iter()
                .filter_map(|(gv, _)| gv.split_once('/'))
                .map(|(group, version)| {
                    let gv = json!({"groupVersion": format!("{group}/{version}"), "version": version});
                    json!({"name": group, "versions": [gv.clone()], "preferredVersion": gv})
                })
                .collect();
            (200, json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": list}))
        }
        _ => {
            let gv = path.strip_prefix("/api/").or_else(|| path.strip_prefix("/apis/")).unwrap_or("");
            match groups.iter().find(|(g, _)| *g == gv) {
                Some((gv, resources)) => {
                    let resources: Vec<Value> = resources
                        .iter()
                        .map(|(name, kind, namespaced)| {
                            json!({"name": name, "singularName": "", "namespaced": namespaced, "kind": kind,
                                   "verbs": ["create", "get", "list", "delete"]})
                        })
                        .collect();
                    (
                        200,
                        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}),
                    )
                }
                None => (
                    404,
                    json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404,
                           "message": "the server could not find the requested resource"}),
                ),
            }
        }
    }
}

/// The object a POST creates: the decoded body plus server-set metadata, and the status the
/// review and token kinds need for kubectl to print something.
fn created(body: &[u8]) -> Value {
    let mut object = match kubeplex_protobuf::decode_body(body) {
        Ok(decoded) => {
            for unknown in &decoded.unknown_fields {
                eprintln!("capture server: {} {}: {unknown}", decoded.api_version, decoded.kind);
            }
            decoded.object
        }
        Err(error) => {
            eprintln!("capture server: body does not decode: {error}");
            match kubeplex_protobuf::decode_envelope(body) {
                Ok(envelope) => json!({"apiVersion": envelope.api_version, "kind": envelope.kind}),
                Err(_) => serde_json::from_slice(body).unwrap_or_else(|_| json!({})),
            }
        }
    };
    let kind = object["kind"].as_str().unwrap_or("").to_owned();
    if let Some(metadata) = object.as_object_mut().map(|o| o.entry("metadata").or_insert_with(|| json!({}))) {
        metadata["uid"] = json!("00000000-0000-0000-0000-000000000001");
        metadata["resourceVersion"] = json!("1");
        metadata["creationTimestamp"] = json!("2026-01-02T03:04:05Z");
    }
    let status = match kind.as_str() {
        "TokenRequest" => json!({"token": "captured.token.value", "expirationTimestamp": "2026-01-02T04:04:05Z"}),
        "SelfSubjectAccessReview" => json!({"allowed": true}),
        "SelfSubjectRulesReview" => json!({
            "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
            "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
            "incomplete": false
        }),
        "SelfSubjectReview" => json!({"userInfo": {"username": "capture-admin", "groups": ["system:masters"]}}),
        _ => Value::Null,
    };
    if !status.is_null() {
        object["status"] = status;
    }
    object
}
