//! The HTTPS transport as clients see it: real kubectl (the machine's dispatcher, and
//! `$KUBECTL_1_37` when set) with the generated admin kubeconfig, and a Rust client over
//! HTTP/1.1 and HTTP/2 with and without client certificates.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use axum::Extension;
use axum::routing::{get, post};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use kubeplex_apiserver::transport::{self, ClientCredentials, ClientIdentity, Pki};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

const UNAUTHORIZED: &str = r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}"#;
const TOO_LARGE: &str = r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Request entity too large: limit is 3145728","reason":"RequestEntityTooLarge","code":413}"#;
const VERSION: &str = r#"{"major":"1","minor":"36","emulationMajor":"1","emulationMinor":"36","minCompatibilityMajor":"1","minCompatibilityMinor":"35","gitVersion":"v1.36.0","gitCommit":"0000000000000000000000000000000000000000","gitTreeState":"clean","buildDate":"2026-01-01T00:00:00Z","goVersion":"go1.25.0","compiler":"gc","platform":"linux/amd64"}"#;

fn router() -> axum::Router {
    let app = axum::Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/clusters/{name}/healthz", get(|| async { "ok" }))
        .route("/version", get(|| async { ([(http::header::CONTENT_TYPE, "application/json")], VERSION) }))
        .route(
            "/echo",
            get(|identity: Option<Extension<ClientIdentity>>| async move {
                match identity {
                    Some(Extension(identity)) => {
                        serde_json::json!({"user": identity.user, "groups": identity.groups}).to_string()
                    }
                    None => "anonymous".to_string(),
                }
            }),
        )
        .route(
            "/upload",
            // axum's Bytes extractor: the transport filters lift its own 2 MB default limit.
            post(|body: Bytes| async move { format!("received {}", body.len()) }),
        );
    transport::with_transport_filters(app)
}

struct Server {
    addr: SocketAddr,
    kubeconfig: PathBuf,
    pki: Pki,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Loads (or creates) the PKI in `dir`, writes the admin kubeconfig and serves `router()`
    /// on `addr` (port 0 for a free one).
    async fn start(dir: &Path, addr: SocketAddr) -> Server {
        let pki = Pki::load_or_create(dir, "127.0.0.1", &[]).expect("pki");
        let listener = TcpListener::bind(addr).await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let kubeconfig =
            transport::write_admin_kubeconfig(dir, &pki, &transport::server_url(addr)).expect("kubeconfig");
        let tls = pki.server_config().expect("server config");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(transport::serve(listener, tls, router(), async {
            let _ = stopped.await;
        }));
        Server { addr, kubeconfig, pki, stop: Some(stop), task }
    }

    async fn stop(mut self) -> Pki {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.await.expect("server task");
        self.pki
    }
}

/// Runs `kubectl --kubeconfig KUBECONFIG --cache-dir FRESH ARGS…`; returns (success, stdout, stderr).
fn kubectl(binary: &str, kubeconfig: &Path, args: &[&str]) -> (bool, String, String) {
    let cache = tempfile::tempdir().expect("cache dir");
    let output = Command::new(binary)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .arg("--cache-dir")
        .arg(cache.path())
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {binary}: {e}"));
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The kubectl binaries to drive: the machine's dispatcher, and `$KUBECTL_1_37` when set.
fn kubectls() -> Vec<String> {
    let mut binaries = vec!["kubectl".to_string()];
    match std::env::var("KUBECTL_1_37") {
        Ok(path) if !path.is_empty() => binaries.push(path),
        _ => eprintln!("note: KUBECTL_1_37 is not set; skipping the kubectl 1.37 part (scripts/test sets it)"),
    }
    binaries
}

async fn run_kubectl(binary: &str, kubeconfig: &Path, args: &[&str]) -> (bool, String, String) {
    let binary = binary.to_string();
    let kubeconfig = kubeconfig.to_path_buf();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        kubectl(&binary, &kubeconfig, &args)
    })
    .await
    .expect("kubectl task")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Protocol {
    Http1,
    Http2,
}

struct Reply {
    status: u16,
    version: http::Version,
    body: String,
}

/// One request over a fresh TLS connection to 127.0.0.1, trusting `pki`'s CA, presenting
/// `credentials` when given.
async fn request(
    pki: &Pki,
    addr: SocketAddr,
    credentials: Option<&ClientCredentials>,
    protocol: Protocol,
    request: http::Request<Full<Bytes>>,
) -> anyhow::Result<Reply> {
    let alpn: &[&[u8]] = match protocol {
        Protocol::Http1 => &[b"http/1.1"],
        Protocol::Http2 => &[b"h2"],
    };
    let config = pki.client_config(credentials, alpn)?;
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let tls =
        tokio_rustls::TlsConnector::from(config).connect(ServerName::try_from("127.0.0.1")?.to_owned(), tcp).await?;
    let io = TokioIo::new(tls);
    let response = match protocol {
        Protocol::Http1 => {
            let (mut sender, connection) = hyper::client::conn::http1::handshake(io).await?;
            tokio::spawn(connection);
            sender.send_request(request).await?
        }
        Protocol::Http2 => {
            let (mut sender, connection) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io).await?;
            tokio::spawn(connection);
            sender.send_request(request).await?
        }
    };
    let status = response.status().as_u16();
    let version = response.version();
    let body = response.into_body().collect().await?.to_bytes();
    Ok(Reply { status, version, body: String::from_utf8_lossy(&body).into_owned() })
}

fn get_request(path: &str) -> http::Request<Full<Bytes>> {
    http::Request::get(path).header(http::header::HOST, "127.0.0.1").body(Full::new(Bytes::new())).expect("request")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_uses_the_admin_kubeconfig() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(dir.path(), "127.0.0.1:0".parse().expect("addr")).await;
    for binary in kubectls() {
        let (ok, stdout, stderr) = run_kubectl(&binary, &server.kubeconfig, &["get", "--raw", "/healthz"]).await;
        assert!(ok, "{binary} get --raw /healthz failed: {stderr}");
        assert_eq!(stdout.trim(), "ok", "{binary}: {stderr}");
        let (ok, stdout, stderr) = run_kubectl(&binary, &server.kubeconfig, &["get", "--raw", "/echo"]).await;
        assert!(ok, "{binary} get --raw /echo failed: {stderr}");
        assert_eq!(stdout.trim(), r#"{"user":"kubeplex-admin","groups":["system:masters"]}"#, "{binary}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_over_http1_and_http2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(dir.path(), "127.0.0.1:0".parse().expect("addr")).await;
    let admin = server.pki.admin_credentials().clone();
    for (protocol, version) in [(Protocol::Http1, http::Version::HTTP_11), (Protocol::Http2, http::Version::HTTP_2)] {
        let reply =
            request(&server.pki, server.addr, Some(&admin), protocol, get_request("/echo")).await.expect("request");
        assert_eq!((reply.status, reply.version), (200, version), "{protocol:?}");
        assert_eq!(reply.body, r#"{"user":"kubeplex-admin","groups":["system:masters"]}"#, "{protocol:?}");

        // Another identity from the same CA.
        let jane = server.pki.issue_client_certificate("jane", &["devs"]).expect("issue");
        let reply = request(&server.pki, server.addr, Some(&jane), protocol, get_request("/echo")).await.expect("jane");
        assert_eq!(reply.body, r#"{"user":"jane","groups":["devs"]}"#, "{protocol:?}");

        // No certificate: the handshake completes, the API answers 401, health stays open.
        let reply = request(&server.pki, server.addr, None, protocol, get_request("/echo")).await.expect("anonymous");
        assert_eq!((reply.status, reply.body.as_str()), (401, UNAUTHORIZED), "{protocol:?}");
        for path in ["/healthz", "/clusters/team-a/healthz"] {
            let reply = request(&server.pki, server.addr, None, protocol, get_request(path)).await.expect("healthz");
            assert_eq!((reply.status, reply.body.as_str()), (200, "ok"), "{protocol:?} {path}");
        }
        let reply = request(&server.pki, server.addr, None, protocol, get_request("/version")).await.expect("version");
        assert_eq!(reply.status, 200, "{protocol:?}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_of_another_ca_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let other = tempfile::tempdir().expect("tempdir");
    let server = Server::start(dir.path(), "127.0.0.1:0".parse().expect("addr")).await;
    let foreign = Pki::load_or_create(other.path(), "127.0.0.1", &[]).expect("other pki");
    assert_ne!(foreign.ca_cert_pem(), server.pki.ca_cert_pem());
    for protocol in [Protocol::Http1, Protocol::Http2] {
        // With TLS 1.3 the client learns of the refusal on its first read, so the request fails
        // rather than the connect; either way no response comes.
        let result =
            request(&server.pki, server.addr, Some(foreign.admin_credentials()), protocol, get_request("/healthz"))
                .await;
        assert!(result.is_err(), "{protocol:?}: a foreign certificate was accepted");
    }
    // The server is still fine.
    let reply =
        request(&server.pki, server.addr, None, Protocol::Http1, get_request("/healthz")).await.expect("healthz");
    assert_eq!(reply.status, 200);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_get_413() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(dir.path(), "127.0.0.1:0".parse().expect("addr")).await;
    let admin = server.pki.admin_credentials().clone();
    let upload = |size: usize| {
        http::Request::post("/upload")
            .header(http::header::HOST, "127.0.0.1")
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(vec![b'x'; size])))
            .expect("request")
    };
    for protocol in [Protocol::Http1, Protocol::Http2] {
        let reply = request(&server.pki, server.addr, Some(&admin), protocol, upload(4 * 1024 * 1024)).await;
        let reply = reply.expect("the server answers an oversized body");
        assert_eq!((reply.status, reply.body.as_str()), (413, TOO_LARGE), "{protocol:?}");
        let reply = request(&server.pki, server.addr, Some(&admin), protocol, upload(3 * 1024 * 1024)).await;
        let reply = reply.expect("a body at the limit");
        assert_eq!((reply.status, reply.body.as_str()), (200, "received 3145728"), "{protocol:?}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_chunked_body_gets_413_over_raw_http1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(dir.path(), "127.0.0.1:0".parse().expect("addr")).await;
    let config = server.pki.client_config(Some(server.pki.admin_credentials()), &[b"http/1.1"]).expect("config");
    let tcp = tokio::net::TcpStream::connect(server.addr).await.expect("connect");
    let mut tls = tokio_rustls::TlsConnector::from(config)
        .connect(ServerName::try_from("localhost").expect("name").to_owned(), tcp)
        .await
        .expect("tls");
    let head = "POST /upload HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n";
    let chunk = vec![b'z'; 1024 * 1024];
    let writer = async {
        tls.write_all(head.as_bytes()).await?;
        for _ in 0..4 {
            tls.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).await?;
            tls.write_all(&chunk).await?;
            tls.write_all(b"\r\n").await?;
        }
        tls.write_all(b"0\r\n\r\n").await?;
        tls.flush().await?;
        let mut response = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = tls.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            response.extend_from_slice(&buf[..n]);
            if response.windows(TOO_LARGE.len()).any(|w| w == TOO_LARGE.as_bytes()) {
                break;
            }
        }
        anyhow::Ok(String::from_utf8_lossy(&response).into_owned())
    };
    let response = writer.await.expect("exchange");
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    assert!(response.contains(TOO_LARGE), "{response}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_gets_an_answer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(dir.path(), "127.0.0.1:0".parse().expect("addr")).await;
    let mut tcp = tokio::net::TcpStream::connect(server.addr).await.expect("connect");
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.expect("write");
    let mut response = String::new();
    tcp.read_to_string(&mut response).await.expect("read");
    assert_eq!(response, "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_reuses_the_pki_and_the_old_kubeconfig_works() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(dir.path(), "127.0.0.1:0".parse().expect("addr")).await;
    let addr = server.addr;
    let saved = dir.path().join("saved.kubeconfig");
    std::fs::copy(&server.kubeconfig, &saved).expect("save kubeconfig");
    let first = server.stop().await;
    assert!(first.generated().ca);

    // The listener is closed; a new server on the same port with the PKI loaded again.
    let server = Server::start(dir.path(), addr).await;
    let generated = server.pki.generated();
    assert!(!generated.ca && !generated.serving && !generated.admin, "{generated:?}");
    assert_eq!(server.pki.ca_cert_pem(), first.ca_cert_pem());
    assert_eq!(
        std::fs::read_to_string(&saved).expect("saved"),
        std::fs::read_to_string(&server.kubeconfig).expect("rewritten"),
        "the rewritten kubeconfig differs"
    );
    let (ok, stdout, stderr) = run_kubectl("kubectl", &saved, &["get", "--raw", "/echo"]).await;
    assert!(ok, "kubectl with the old kubeconfig failed: {stderr}");
    assert_eq!(stdout.trim(), r#"{"user":"kubeplex-admin","groups":["system:masters"]}"#);
    let reply = request(&server.pki, addr, Some(first.admin_credentials()), Protocol::Http2, get_request("/echo"))
        .await
        .expect("request");
    assert_eq!(reply.status, 200);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_idle_keep_alive_connections() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(dir.path(), "127.0.0.1:0".parse().expect("addr")).await;
    let config = server.pki.client_config(Some(server.pki.admin_credentials()), &[b"h2"]).expect("config");
    let tcp = tokio::net::TcpStream::connect(server.addr).await.expect("connect");
    let tls = tokio_rustls::TlsConnector::from(config)
        .connect(ServerName::try_from("localhost").expect("name").to_owned(), tcp)
        .await
        .expect("tls");
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls)).await.expect("h2");
    let driver = tokio::spawn(connection);
    let response = sender.send_request(get_request("/healthz")).await.expect("first request");
    assert_eq!(response.status(), 200);
    // The connection stays open (keep-alive) until the server shuts down, which then completes.
    server.stop().await;
    driver.await.expect("driver").expect("the connection ends cleanly (GOAWAY)");
}
