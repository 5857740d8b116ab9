//! What several end-to-end test files share: raw requests to the server
//! through kube-rs, with the exact status, `Warning` headers and body
//! answered (no retries, so a 429 is seen as such).

#![allow(dead_code)] // each test binary uses its own part

use http_body_util::BodyExt as _;
use kubeplex_testing::KubeplexServer;
use serde_json::Value;

/// A kube-rs client of `server` as its administrator, without retries.
pub async fn client(server: &KubeplexServer) -> kube::Client {
    let kubeconfig = kube::config::Kubeconfig::read_from(server.kubeconfig()).expect("read admin.kubeconfig");
    let mut config =
        kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default()).await.expect("kube-rs config");
    config.default_retry = false;
    kube::Client::try_from(config).expect("kube client")
}

/// What the server answered to one request.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    /// The `Warning` headers.
    pub warnings: Vec<String>,
    /// The body as JSON (`Null` when it is not JSON).
    pub body: Value,
}

/// Sends one request with `body` of `content_type`.
pub async fn send(client: &kube::Client, method: http::Method, path: &str, content_type: &str, body: &str) -> Reply {
    let request = http::Request::builder()
        .method(method)
        .uri(path)
        .header(http::header::CONTENT_TYPE, content_type)
        .body(kube::client::Body::from(body.as_bytes().to_vec()))
        .expect("request");
    let response = client.send(request).await.expect("send");
    let status = response.status().as_u16();
    let warnings = response
        .headers()
        .get_all(http::header::WARNING)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    Reply { status, warnings, body: serde_json::from_slice(&bytes).unwrap_or(Value::Null) }
}

/// [`send`] from a test without a runtime of its own.
pub fn send_blocking(
    server: &KubeplexServer,
    method: http::Method,
    path: &str,
    content_type: &str,
    body: &str,
) -> Reply {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async { send(&client(server).await, method, path, content_type, body).await })
}
