//! The apply benchmark's measured steps against a running server: the
//! objects created through the API (the reference), `kubectl apply -f DIR`,
//! and the OpenAPI v3 index and documents.
//!
//! ```text
//!   api_creates     ─ one keep-alive connection ─ POST each object (?fieldValidation=Strict, as kubectl)
//!   kubectl_apply   ─ EXE --kubeconfig K --cache-dir C apply -f DIR ─ count "<kind>/<name> created|unchanged"
//!   fetch_openapi   ─ GET /openapi/v3 ─► GET every serverRelativeURL once
//!   openapi_latency ─ GET /openapi/v3 ─► GET /openapi/v3/apis/apps/v1?hash=H × N, one connection
//! ```
//!
//! Each step is timed whole (wall), with the CPU seconds the server and the
//! client (kubectl, or this benchmark) used over it.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, StatusCode};
use serde_json::Value;

use super::manifests::Manifest;
use crate::api::client::{Conn, Protocol, describe};
use crate::api::process::{ServerProcess, children_cpu_seconds, own_cpu_seconds};
use crate::api::workloads::Target;
use crate::stats::Histogram;
use crate::table::group_thousands;
use crate::workloads::{Recorder, WorkloadResult};

/// The group-version whose document the latency step fetches.
pub const LATENCY_GROUP_VERSION: &str = "apis/apps/v1";

/// One measured step: its result (ops = objects done, elapsed = wall time)
/// and the CPU seconds used over it.
#[derive(Clone, Debug)]
pub struct Step {
    pub result: WorkloadResult,
    /// CPU seconds (user + system) of the server over the step.
    pub server_cpu: Option<f64>,
    /// CPU seconds of the client: kubectl (waited-for children), or this
    /// benchmark for the API creates.
    pub client_cpu: Option<f64>,
}

/// Measures CPU seconds of the server and of a client over a step.
pub(super) struct CpuClock<'a> {
    server: &'a ServerProcess,
    client: fn() -> anyhow::Result<f64>,
    server_start: Option<f64>,
    client_start: Option<f64>,
}

impl<'a> CpuClock<'a> {
    pub(super) fn start(server: &'a ServerProcess, client: fn() -> anyhow::Result<f64>) -> Self {
        CpuClock { server, client, server_start: server.cpu_seconds().ok(), client_start: client().ok() }
    }

    pub(super) fn stop(&self, result: WorkloadResult) -> Step {
        let since = |start: Option<f64>, now: anyhow::Result<f64>| Some(now.ok()? - start?);
        Step {
            result,
            server_cpu: since(self.server_start, self.server.cpu_seconds()),
            client_cpu: since(self.client_start, (self.client)()),
        }
    }
}

/// Runs one request, failing it after `limit`.
async fn request(
    conn: &mut Conn,
    limit: Duration,
    method: Method,
    path: &str,
    body: Option<Bytes>,
) -> Result<(StatusCode, Bytes), String> {
    match tokio::time::timeout(limit, conn.request(method.clone(), path, body)).await {
        Ok(Ok(response)) => Ok(response),
        Ok(Err(e)) => Err(format!("{method} {path}: {e:#}")),
        Err(_) => Err(format!("{method} {path}: timed out after {limit:?}")),
    }
}

/// Creates every object through the API, one after another over one
/// keep-alive connection, as kubectl does (its namespaces exist).
pub async fn api_creates(target: &Target, server: &ServerProcess, manifests: &[Manifest], limit: Duration) -> Step {
    let clock = CpuClock::start(server, own_cpu_seconds);
    let start = Instant::now();
    let mut rec = Recorder::default();
    match target.connect(Protocol::Http1).await {
        Err(e) => rec.fail_many(manifests.len() as u64, e),
        Ok(mut conn) => {
            for m in manifests {
                let body = Bytes::from(serde_json::to_vec(&m.object).unwrap_or_default());
                let path = format!("{}?fieldValidation=Strict", m.collection_path());
                let sent = Instant::now();
                match request(&mut conn, limit, Method::POST, &path, Some(body)).await {
                    Ok((StatusCode::CREATED, _)) => rec.ok(sent.elapsed()),
                    Ok((status, body)) => rec.error(format!("POST {path}: {}", describe(status, &body))),
                    Err(e) => rec.error(e),
                }
            }
        }
    }
    let detail = format!("{} created, sequential POSTs on 1 connection", group_thousands(rec.ok));
    clock.stop(rec.finish(start.elapsed(), detail))
}

/// What `kubectl apply` is run with.
#[derive(Clone, Debug)]
pub struct Kubectl {
    pub exe: PathBuf,
    pub kubeconfig: PathBuf,
    /// Its discovery and HTTP cache (`--cache-dir`), fresh per server.
    pub cache_dir: PathBuf,
    pub timeout: Duration,
}

/// Runs `kubectl apply -f DIR` and expects one `<kind>/<name> WORD` line
/// (WORD = `created`, `unchanged`) for each of `manifests`.
pub async fn kubectl_apply(
    kubectl: &Kubectl,
    server: &ServerProcess,
    dir: &Path,
    manifests: &[Manifest],
    word: &str,
) -> Step {
    let clock = CpuClock::start(server, children_cpu_seconds);
    let start = Instant::now();
    let mut command = tokio::process::Command::new(&kubectl.exe);
    command
        .arg("--kubeconfig")
        .arg(&kubectl.kubeconfig)
        .arg("--cache-dir")
        .arg(&kubectl.cache_dir)
        .arg("apply")
        .arg("-f")
        .arg(dir)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let outcome = tokio::time::timeout(kubectl.timeout, command.output()).await;
    let wall = start.elapsed();
    let mut rec = Recorder::default();
    let expected = manifests.len() as u64;
    match outcome {
        Err(_) => rec.fail_many(expected, format!("kubectl apply timed out after {:?}", kubectl.timeout)),
        Ok(Err(e)) => rec.fail_many(expected, format!("running {}: {e}", kubectl.exe.display())),
        Ok(Ok(output)) => {
            let stdout = String::from_utf8_lossy(&output.stdout);
            let stderr = String::from_utf8_lossy(&output.stderr);
            let done = count_applied(&stdout, manifests, word);
            rec.ok = done;
            if !output.status.success() {
                let first = stderr.lines().find(|l| !l.starts_with("Warning:")).unwrap_or("").trim();
                rec.fail_many(
                    (expected - done.min(expected)).max(1),
                    format!("kubectl apply: {}: {first}", output.status),
                );
            } else if done != expected {
                let other = stdout.lines().find(|l| !l.ends_with(&format!(" {word}"))).unwrap_or("").trim();
                rec.fail_many(
                    expected.abs_diff(done),
                    format!("kubectl apply: {done} of {expected} objects {word}; first other line: {other:?}"),
                );
            }
        }
    }
    let detail = format!("{} {word}", group_thousands(rec.ok));
    clock.stop(rec.finish(wall, detail))
}

/// How many of `manifests` kubectl's output says are `word`
/// (`configmap/app-0-config created`); each object counts once (names are
/// unique across namespaces here).
pub fn count_applied(stdout: &str, manifests: &[Manifest], word: &str) -> u64 {
    let wanted: HashSet<String> =
        manifests.iter().map(|m| format!("{}/{} {word}", m.kind.kubectl_name(), m.name)).collect();
    let printed: HashSet<&str> = stdout.lines().map(str::trim).filter(|l| wanted.contains(*l)).collect();
    printed.len() as u64
}

/// The OpenAPI v3 index and every group-version document, each fetched once.
#[derive(Clone, Debug, Default)]
pub struct OpenApiLoad {
    /// Group-version documents fetched.
    pub documents: u64,
    /// Their bytes together.
    pub bytes: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub elapsed: Duration,
}

/// The `serverRelativeURL` of every group-version in an index, by
/// group-version (`apis/apps/v1`).
pub fn index_urls(body: &[u8]) -> Result<Vec<(String, String)>, String> {
    let index: Value = serde_json::from_slice(body).map_err(|e| format!("the OpenAPI index is not JSON: {e}"))?;
    let paths = index.get("paths").and_then(Value::as_object).ok_or("the OpenAPI index has no paths")?;
    Ok(paths
        .iter()
        .filter_map(|(gv, entry)| Some((gv.clone(), entry.get("serverRelativeURL")?.as_str()?.to_string())))
        .collect())
}

async fn fetch_index(conn: &mut Conn, limit: Duration) -> Result<Vec<(String, String)>, String> {
    match request(conn, limit, Method::GET, "/openapi/v3", None).await? {
        (StatusCode::OK, body) => index_urls(&body),
        (status, body) => Err(format!("GET /openapi/v3: {}", describe(status, &body))),
    }
}

/// Fetches `/openapi/v3` and then every group-version document it names.
pub async fn fetch_openapi(target: &Target, limit: Duration) -> OpenApiLoad {
    let start = Instant::now();
    let mut load = OpenApiLoad::default();
    let fail = |load: &mut OpenApiLoad, what: String| {
        load.errors += 1;
        load.first_error.get_or_insert(what);
    };
    let mut conn = match target.connect(Protocol::Http1).await {
        Ok(conn) => conn,
        Err(e) => {
            fail(&mut load, e);
            return load;
        }
    };
    match fetch_index(&mut conn, limit).await {
        Err(e) => fail(&mut load, e),
        Ok(urls) => {
            for (_, url) in urls {
                match request(&mut conn, limit, Method::GET, &url, None).await {
                    Ok((StatusCode::OK, body)) => {
                        load.documents += 1;
                        load.bytes += body.len() as u64;
                    }
                    Ok((status, body)) => fail(&mut load, format!("GET {url}: {}", describe(status, &body))),
                    Err(e) => fail(&mut load, e),
                }
            }
        }
    }
    load.elapsed = start.elapsed();
    load
}

/// The cached-document latency: requests of one group-version document
/// over one keep-alive connection.
#[derive(Clone, Debug, Default)]
pub struct OpenApiLatency {
    /// The URL fetched (`/openapi/v3/apis/apps/v1?hash=…`).
    pub url: String,
    /// The document's size.
    pub bytes: u64,
    pub result: Option<WorkloadResult>,
}

/// Fetches `/openapi/v3`, then the document of [`LATENCY_GROUP_VERSION`]
/// `requests` times over the same connection, each timed to its last byte.
pub async fn openapi_latency(target: &Target, requests: usize, limit: Duration) -> OpenApiLatency {
    let start = Instant::now();
    let mut rec = Recorder::default();
    let mut out = OpenApiLatency::default();
    let mut conn = match target.connect(Protocol::Http1).await {
        Ok(conn) => conn,
        Err(e) => {
            rec.error(e);
            out.result = Some(rec.finish(start.elapsed(), String::new()));
            return out;
        }
    };
    let url = match fetch_index(&mut conn, limit).await {
        Ok(urls) => urls.into_iter().find(|(gv, _)| gv == LATENCY_GROUP_VERSION).map(|(_, url)| url),
        Err(e) => {
            rec.error(e);
            None
        }
    };
    match url {
        None if rec.errors == 0 => rec.error(format!("no {LATENCY_GROUP_VERSION} in the OpenAPI index")),
        None => {}
        Some(url) => {
            let timed = Instant::now();
            for _ in 0..requests {
                let sent = Instant::now();
                match request(&mut conn, limit, Method::GET, &url, None).await {
                    Ok((StatusCode::OK, body)) => {
                        let took = sent.elapsed();
                        if out.bytes == 0 {
                            out.bytes = body.len() as u64;
                        }
                        if body.len() as u64 == out.bytes {
                            rec.ok(took);
                        } else {
                            rec.error(format!("GET {url}: {} bytes, then {}", out.bytes, body.len()));
                        }
                    }
                    Ok((status, body)) => rec.error(format!("GET {url}: {}", describe(status, &body))),
                    Err(e) => rec.error(e),
                }
            }
            out.url = url;
            out.result = Some(rec.finish(timed.elapsed(), format!("{} reconnects", conn.reconnects)));
            return out;
        }
    }
    out.result = Some(rec.finish(start.elapsed(), String::new()));
    out
}

/// The p50 and p99 of a latency histogram.
pub fn p50_p99(latency: &Histogram) -> Option<(Duration, Duration)> {
    Some((latency.percentile(0.5)?, latency.percentile(0.99)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::manifests::manifests;

    #[test]
    fn counts_what_kubectl_printed() {
        // Two namespaces, so app-0's objects and app-1's are apart; 4 objects.
        let all = manifests(4, 2);
        let out = "configmap/app-0-config created\nservice/app-0 created\ndeployment.apps/app-0 created\n\
                   configmap/app-1-config created\nWarning: something\n";
        assert_eq!(count_applied(out, &all, "created"), 4);
        assert_eq!(count_applied(out, &all, "unchanged"), 0);
        let partial = "configmap/app-0-config created\nservice/app-0 configured\n";
        assert_eq!(count_applied(partial, &all, "created"), 1);
        // A repeated line counts once.
        let repeated = "configmap/app-0-config created\nconfigmap/app-0-config created\n";
        assert_eq!(count_applied(repeated, &all, "created"), 1);
    }

    #[test]
    fn reads_the_index() {
        let body = br#"{"paths":{"api/v1":{"serverRelativeURL":"/openapi/v3/api/v1?hash=AB"},
            "apis/apps/v1":{"serverRelativeURL":"/openapi/v3/apis/apps/v1?hash=CD"},"odd":{}}}"#;
        let urls = index_urls(body).expect("an index");
        assert_eq!(
            urls,
            vec![
                ("api/v1".to_string(), "/openapi/v3/api/v1?hash=AB".to_string()),
                ("apis/apps/v1".to_string(), "/openapi/v3/apis/apps/v1?hash=CD".to_string()),
            ]
        );
        assert!(index_urls(b"[]").is_err());
        assert!(index_urls(b"nope").is_err());
    }
}
