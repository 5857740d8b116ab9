//! The pod subresources a kubelet would serve (`log`, `exec`, `attach`,
//! `portforward`), answered for kubeplex's simulated nodes: `kubectl logs`
//! gets a few lines saying the container is simulated (text/plain), and the
//! streaming ones get a clear 400 `Status` before any upgrade (kubectl
//! prints `Error from server (BadRequest): cannot exec pod ...`).
//!
//! ```text
//!  GET  pods/NAME/log?container=&tailLines=   ─► pod? container? (LogLocation's checks) ─► simulated_logs
//!  GET|POST pods/NAME/{exec,attach,portforward} ─► pod? container? bound? ─► stream_refused (400)
//! ```

use std::sync::Arc;

use axum::body::Body;
use axum::response::Response;
use http::{HeaderValue, Method, StatusCode, header};
use k8s_openapi::api::core::v1::Pod;
use kubeplex_core::status::ApiError;
use kubeplex_nodesim::{StreamKind, log_container, simulated_logs, stream_refused};

use crate::api::ApiServer;
use crate::crud::{Target, store_error};
use crate::http::Query;
use crate::objects;

/// The pod subresources served here.
pub const SUBRESOURCES: &[&str] = &["log", "exec", "attach", "portforward"];

/// Serves `pods/NAME/<sub>` for `sub` in [`SUBRESOURCES`].
pub async fn serve(api: &Arc<ApiServer>, t: &Target, method: &Method, query: &Query) -> Result<Response, ApiError> {
    let sub = t.subresource.as_deref().unwrap_or_default();
    let allowed = match sub {
        "log" => *method == Method::GET,
        _ => *method == Method::GET || *method == Method::POST,
    };
    if !allowed {
        return Err(ApiError::method_not_supported(&format!("pods/{sub}"), "", method.as_str()));
    }
    let pod_target = Target { subresource: None, table: None, ..t.clone() };
    let kv =
        api.store.get(&pod_target.key(), None).await.map_err(store_error)?.ok_or_else(|| pod_target.not_found())?;
    let pod: Pod = serde_json::from_value(objects::decode(&kv)?)
        .map_err(|e| ApiError::internal(format!("decoding pod {}: {e}", t.name())))?;
    let node = pod.spec.as_ref().and_then(|s| s.node_name.as_deref()).filter(|n| !n.is_empty());
    let kind = match sub {
        "log" => {
            let container = log_container(&pod, query.get("container"))?;
            // Not yet on a node: upstream's empty location, an empty stream.
            let text = node.map(|n| simulated_logs(&pod, &container, n)).unwrap_or_default();
            let tail = query.get("tailLines").and_then(|v| v.parse::<usize>().ok());
            return Ok(plain(tail_lines(&text, tail)));
        }
        "exec" => StreamKind::Exec,
        "attach" => StreamKind::Attach,
        _ => StreamKind::PortForward,
    };
    if kind != StreamKind::PortForward {
        log_container(&pod, query.get("container"))?;
    }
    let Some(node) = node else {
        return Err(ApiError::bad_request(format!("pod {} does not have a host assigned", t.name())));
    };
    Err(stream_refused(kind, &pod, node))
}

/// The last `tail` lines of `text` (all when `None`).
fn tail_lines(text: &str, tail: Option<usize>) -> String {
    let Some(n) = tail else { return text.to_owned() };
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    lines[lines.len().saturating_sub(n)..].concat()
}

fn plain(text: String) -> Response {
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = StatusCode::OK;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_keeps_the_last_lines() {
        let text = "a\nb\nc\n";
        assert_eq!(tail_lines(text, None), text);
        assert_eq!(tail_lines(text, Some(2)), "b\nc\n");
        assert_eq!(tail_lines(text, Some(0)), "");
        assert_eq!(tail_lines(text, Some(10)), text);
    }
}
